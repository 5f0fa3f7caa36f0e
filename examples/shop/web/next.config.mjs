import { fileURLToPath } from "node:url";

const src = fileURLToPath(new URL("./src", import.meta.url));

/** @type {import('next').NextConfig} */
const nextConfig = {
  // server source maps: frames in .next/server/... map back to src/app/.../route.ts
  typescript: { ignoreBuildErrors: true },
  eslint: { ignoreDuringBuilds: true },
  experimental: { serverSourceMaps: true },
  // required from node_modules at run time, not bundled: a faster build, and one SDK instance per process
  serverExternalPackages: ["@sentry/nextjs"],
  webpack(config, { isServer }) {
    config.resolve.alias["@"] = src;
    if (isServer) {
      config.devtool = "source-map";
      // every route handler runs under the house observability (logs, metrics, 500s, Sentry): see the loader
      config.module.rules.push({
        test: /[\\/]src[\\/]app[\\/](?:.+[\\/])?route\.ts$/,
        enforce: "pre",
        use: [{ loader: fileURLToPath(new URL("./observe-routes-loader.cjs", import.meta.url)), options: { appDir: fileURLToPath(new URL("./src/app", import.meta.url)) } }],
      });
    }
    return config;
  },
};
export default nextConfig;
