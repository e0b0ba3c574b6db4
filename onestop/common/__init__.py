"""Machinery written once and shared by every service (STYLE §3)."""
