// OthelloRules: see the module's other files.
