"""Operations: where alarms and findings go (encrypted topics, chat channels) and the alarms
themselves."""
