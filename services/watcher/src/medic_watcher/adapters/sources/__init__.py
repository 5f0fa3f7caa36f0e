"""Sources: each polls (or receives) one system and yields observed events, samples and a new cursor."""

from .base import PollResult, RateLimiter, Source, SourceError

__all__ = ["PollResult", "RateLimiter", "Source", "SourceError"]
