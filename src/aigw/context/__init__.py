"""Context building for outgoing requests: prompt templates (`templates`), token counting and prompt
budgeting (`tokens`), PII detection and masking (`pii`)."""
