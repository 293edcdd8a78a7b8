// OthelloTraining: see the module's other files.
