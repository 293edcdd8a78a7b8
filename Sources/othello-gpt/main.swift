import OthelloCommands

await OthelloGPTCommand.mainWithErrors()
