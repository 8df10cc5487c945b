"""Helpers shared by the three test tiers: paths, the template contract, sample files and lakes."""
