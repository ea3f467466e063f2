"""Ports (typing.Protocol, one per external system) and their httpx implementations."""
