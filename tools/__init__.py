"""Gerbang host tools: the protocol reference implementation and the operators' CLI."""
