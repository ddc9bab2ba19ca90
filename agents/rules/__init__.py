"""Pure rules the nodes apply: parsing, catalog terms, follow-ups, ranking, cards, answer text."""
