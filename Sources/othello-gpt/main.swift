import OthelloCommands

OthelloGPTCommand.mainWithErrors()
