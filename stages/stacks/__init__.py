"""One module per stack class. A stack takes its stage (which knows the account and the
config) and the config section it builds; stages compose stacks and order them."""
