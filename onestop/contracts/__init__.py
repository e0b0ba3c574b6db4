"""The contracts every part of the mesh shares: message envelope, payloads, AMQP topology.

Importable without nameko, so department consumers in plain pika (or any
other tool) can use exactly the schemas the platform uses.
"""
