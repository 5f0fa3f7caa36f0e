"""docker-compose.yml and deploy/k8s, checked offline, and the deployment's shell pieces run for real."""
