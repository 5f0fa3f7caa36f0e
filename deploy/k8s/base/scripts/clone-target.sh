#!/bin/sh
# Init container of the investigator and implementer: clone the target repository into the pod's data volume, or
# refresh it when the volume already holds one (a restarted pod keeps its emptyDir). The services expect the clone
# at [target] repo with `origin` pointing at the forge, and fetch from it themselves afterwards.
#
#   TARGET_REPO_URL        clone URL (https://github.com/owner/name.git, or a path)
#   TARGET_REPO_DIR        where the clone goes (the medic.toml's [target] repo)
#   TARGET_DEFAULT_BRANCH  branch checked out (default main)
#   TARGET_GIT_TOKEN_ENV   name of the variable holding the HTTPS token (default GITHUB_TOKEN)
set -eu

url="${TARGET_REPO_URL:?TARGET_REPO_URL is not set}"
dir="${TARGET_REPO_DIR:?TARGET_REPO_DIR is not set}"
branch="${TARGET_DEFAULT_BRANCH:-main}"
token_env="${TARGET_GIT_TOKEN_ENV:-GITHUB_TOKEN}"
case "$token_env" in
  '' | [0-9]* | *[!A-Za-z0-9_]*)
    echo "clone-target: TARGET_GIT_TOKEN_ENV must name an environment variable, not '$token_env'" >&2
    exit 2
    ;;
esac

# git asks this helper for credentials each time it needs them: the token is read from the environment then and is
# never written to disk or into the remote URL.
helper="!f() { test \"\$1\" = get || exit 0; echo username=x-access-token; echo \"password=\${$token_env}\"; }; f"

if [ -d "$dir/.git" ]; then
  git -C "$dir" remote set-url origin "$url"
  git -C "$dir" config --replace-all credential.helper "$helper"
  git -C "$dir" fetch --quiet --prune origin
  echo "clone-target: refreshed $dir from origin"
else
  partial="$dir.partial"
  rm -rf "$partial"
  git -c credential.helper="$helper" clone --quiet --branch "$branch" "$url" "$partial"
  git -C "$partial" config credential.helper "$helper"
  mv "$partial" "$dir"
  echo "clone-target: cloned $branch into $dir"
fi
