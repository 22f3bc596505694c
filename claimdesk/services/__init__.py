"""What people and flows do: the only layer that combines repositories, codec, rules and payers."""
