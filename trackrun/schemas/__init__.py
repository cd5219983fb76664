"""The data contract: run and artifact record shapes, states, and list containers.

Records are plain dicts in the layout of the seed's system (``kind/metadata/spec/status``), so that a
record read from any store, sent over HTTP or dumped as YAML looks the same everywhere.
"""
