import ArgumentParser
import Foundation
import OthelloPlots
import OthelloReports
import OthelloRules
import WorkbenchSupport

extension FigureCommand {
    /// `othello-gpt figure demo`: one example of every figure kind, from statistics of random games.
    struct Demo: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write an example PNG of every figure kind.",
            discussion: """
            Writes, from statistics of seeded random games (Li et al.'s synthetic games):
              board-position.png  a position, its last move and the legal moves
              board-heatmap.png   per square, the correlation of owning it after 40
                                  moves with winning (diverging, cell text)
              board-grid.png      mine - theirs share of the occupied squares, one
                                  board per move count (shared scale; squares no
                                  game has reached are "no data")
              line-plot.png       mean mobility and flips by move number
              matrix-heatmap.png  a synthetic causal attention pattern
            "Mine" is the side to move next (Nanda's convention).

            Example:
              othello-gpt figure demo --out-dir Figures
            """
        )

        @Option(help: "Folder for the PNGs (created if missing).")
        var outDir: String = "Figures"

        @Option(help: "Random games the statistics are taken over.")
        var games: Int = 10000

        @Option(help: "Random seed of the games.")
        var seed: UInt64 = 1

        func run() throws {
            guard (1...1_000_000).contains(games) else {
                throw WorkbenchError("figure demo: --games \(games) is out of range; use 1...1000000")
            }
            let folder = URL(fileURLWithPath: outDir)
            try createOutputFolder(folder, option: "--out-dir")
            for (name, figure) in try DemoFigures.all(games: RandomGames.generate(count: games, seed: seed)) {
                let url = folder.appendingPathComponent(name)
                try figure.write(to: url)
                print("wrote \(url.path)")
            }
        }
    }
}
