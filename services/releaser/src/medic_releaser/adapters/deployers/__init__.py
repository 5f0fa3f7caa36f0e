"""Deployers behind one interface: Vercel (REST) and Command (a process, a command, or an HTTP hook)."""

from .base import Deployer, DeploymentStatus
from .command import CommandDeployer
from .vercel import VercelDeployer

__all__ = ["CommandDeployer", "Deployer", "DeploymentStatus", "VercelDeployer"]
