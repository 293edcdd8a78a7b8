// swift-tools-version:5.9
//
// The Othello-GPT world-model workbench.
//
// Modules follow the pipeline, dependencies point one way:
//   WorkbenchSupport (files, .npy, progress, seeded RNG)
//   → OthelloRules (bitboards, notation, tokens, games)
//   → OthelloModel (tensors, OpenBLAS, the transformer, hooks, weight files)
//   → OthelloTraining (backward pass, AdamW, the trainer)
//   → OthelloProbes (board-state targets, linear and MLP probes, probe files, directions, the sweep)
//   → OthelloInterventions (edit the model's board through hooks, Li et al.'s metric, the minimal-edit sweep)
//   → OthelloSAEs (sparse autoencoders: training, SAELens files, scored against the board)
//   → OthelloCircuits (attention-head scores, the empty-square circuit, ablations)
//   → OthelloReports (results as tables, JSON and figures: the sweep reports, the study's runner and record)
//   → OthelloAtlas (`scope`: a static site with a page for every neuron, head, SAE feature and probe)
//   OthelloExplorer (the live explorer's computations: play, probe, edit, attention, attribution; request decoding)
//   → OthelloServer (`serve`: the explorer's page and JSON API on Hummingbird 2)
//   OthelloPlots (PNG canvas, colour maps, figures) uses Support and Rules only.
//   OthelloBenchmarks (`bench`: each hot path timed beside its reference, the plain C engine, sgemm or PyTorch).
//   OthelloCommands (the `othello-gpt` subcommands: parse options, call a library, print) sits on top of everything.
import PackageDescription

let package = Package(
    name: "OthelloGPT",
    products: [
        .executable(name: "othello-gpt", targets: ["othello-gpt"]),
        .library(name: "WorkbenchSupport", targets: ["WorkbenchSupport"]),
        .library(name: "OthelloRules", targets: ["OthelloRules"]),
        .library(name: "OthelloModel", targets: ["OthelloModel"]),
        .library(name: "OthelloTraining", targets: ["OthelloTraining"]),
        .library(name: "OthelloProbes", targets: ["OthelloProbes"]),
        .library(name: "OthelloInterventions", targets: ["OthelloInterventions"]),
        .library(name: "OthelloSAEs", targets: ["OthelloSAEs"]),
        .library(name: "OthelloCircuits", targets: ["OthelloCircuits"]),
        .library(name: "OthelloPlots", targets: ["OthelloPlots"]),
        .library(name: "OthelloReports", targets: ["OthelloReports"]),
        .library(name: "OthelloBenchmarks", targets: ["OthelloBenchmarks"]),
        .library(name: "OthelloAtlas", targets: ["OthelloAtlas"]),
        .library(name: "OthelloExplorer", targets: ["OthelloExplorer"]),
        .library(name: "OthelloServer", targets: ["OthelloServer"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // `swift package generate-documentation` builds the modules' DocC catalogs (Sources/*/*.docc).
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
        // The live explorer's web server (`othello-gpt serve`).
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
    ],
    targets: [
        // System libraries (Debian: libopenblas-dev, libpng-dev, libfreetype-dev).
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CFreeType", pkgConfig: "freetype2", providers: [.apt(["libfreetype-dev"])]),

        .target(name: "WorkbenchSupport"),
        // A plain C bitboard engine: the reference for `othello-gpt bench games` only.
        .target(name: "CBaselineOthello"),
        .target(name: "OthelloRules", dependencies: ["WorkbenchSupport"]),
        .target(
            name: "OthelloModel",
            dependencies: ["WorkbenchSupport", "OthelloRules", "COpenBLAS"],
            resources: [.copy("Resources")]
        ),
        .target(name: "OthelloTraining", dependencies: ["OthelloModel", "OthelloRules", "WorkbenchSupport", "COpenBLAS"]),
        .target(name: "OthelloProbes", dependencies: ["OthelloModel", "OthelloRules", "OthelloTraining", "WorkbenchSupport"]),
        .target(name: "OthelloInterventions", dependencies: ["OthelloProbes", "OthelloModel", "OthelloRules", "OthelloTraining", "WorkbenchSupport"]),
        .target(name: "OthelloSAEs", dependencies: ["OthelloProbes", "OthelloModel", "OthelloRules", "OthelloTraining", "WorkbenchSupport"],
                resources: [.copy("Resources")]),
        .target(name: "OthelloCircuits", dependencies: ["OthelloProbes", "OthelloModel", "OthelloRules", "OthelloTraining", "WorkbenchSupport"]),
        .target(name: "OthelloPlots", dependencies: ["WorkbenchSupport", "OthelloRules", "CPNG", "CFreeType"]),
        .target(name: "OthelloReports", dependencies: ["OthelloSAEs", "OthelloCircuits", "OthelloInterventions", "OthelloProbes", "OthelloTraining", "OthelloModel", "OthelloRules", "OthelloPlots", "WorkbenchSupport"]),
        .target(
            name: "OthelloAtlas",
            dependencies: ["OthelloReports", "OthelloSAEs", "OthelloCircuits", "OthelloProbes", "OthelloModel", "OthelloRules", "WorkbenchSupport"],
            resources: [.copy("Site")]
        ),
        .target(name: "OthelloExplorer", dependencies: ["OthelloInterventions", "OthelloProbes", "OthelloModel", "OthelloRules", "WorkbenchSupport"]),
        .target(
            name: "OthelloServer",
            dependencies: ["OthelloExplorer", "OthelloAtlas", "OthelloRules", "WorkbenchSupport", .product(name: "Hummingbird", package: "hummingbird")],
            resources: [.copy("Site")]
        ),
        .target(name: "OthelloBenchmarks", dependencies: ["OthelloSAEs", "OthelloProbes", "OthelloTraining", "OthelloModel", "OthelloRules", "WorkbenchSupport", "CBaselineOthello"]),
        .target(
            name: "OthelloCommands",
            dependencies: [
                "WorkbenchSupport", "OthelloRules", "OthelloModel", "OthelloTraining", "OthelloProbes", "OthelloInterventions", "OthelloSAEs", "OthelloCircuits", "OthelloPlots", "OthelloReports", "OthelloBenchmarks", "OthelloAtlas", "OthelloExplorer", "OthelloServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(name: "othello-gpt", dependencies: ["OthelloCommands"]),

        .testTarget(name: "WorkbenchSupportTests", dependencies: ["WorkbenchSupport"]),
        .testTarget(name: "OthelloRulesTests", dependencies: ["OthelloRules"], resources: [.copy("Fixtures")]),
        .testTarget(name: "OthelloModelTests", dependencies: ["OthelloModel"], resources: [.copy("Fixtures")]),
        .testTarget(name: "OthelloTrainingTests", dependencies: ["OthelloTraining"], resources: [.copy("Fixtures")]),
        .testTarget(name: "OthelloProbesTests", dependencies: ["OthelloProbes"], resources: [.copy("Fixtures")]),
        .testTarget(name: "OthelloInterventionsTests", dependencies: ["OthelloInterventions"], resources: [.copy("Fixtures")]),
        .testTarget(name: "OthelloSAEsTests", dependencies: ["OthelloSAEs"], resources: [.copy("Fixtures")]),
        .testTarget(name: "OthelloCircuitsTests", dependencies: ["OthelloCircuits"]),
        .testTarget(name: "OthelloPlotsTests", dependencies: ["OthelloPlots", "OthelloRules", "CPNG"]),
        // A WebDriver client for the browser tests (headless Chromium through chromedriver).
        .target(name: "BrowserTesting", path: "Tests/BrowserTesting"),
        .testTarget(name: "OthelloAtlasTests", dependencies: ["BrowserTesting", "OthelloAtlas", "OthelloSAEs", "OthelloCircuits", "OthelloProbes", "OthelloModel", "OthelloRules", "WorkbenchSupport"]),
        .testTarget(name: "OthelloServerTests", dependencies: [
            "BrowserTesting", "OthelloServer", "OthelloExplorer", "OthelloInterventions", "OthelloProbes", "OthelloModel", "OthelloRules", "WorkbenchSupport",
            .product(name: "HummingbirdTesting", package: "hummingbird"),
        ]),
        .testTarget(name: "OthelloCommandsTests", dependencies: ["OthelloCommands", "OthelloReports"]),
    ]
)
