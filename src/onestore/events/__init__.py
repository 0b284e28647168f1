"""Getting committed domain events out of the outbox: to in-process subscribers, or to NATS
JetStream through ``onestore relay``."""
