"""Where change events come from: the SoR outbox, webhooks, Kafka (Debezium) and JSONL files."""
