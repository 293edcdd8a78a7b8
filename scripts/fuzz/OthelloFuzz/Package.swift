// swift-tools-version:5.9
//
// The workbench's fuzz targets (issue #15), a package of their own so that the workbench builds and tests without
// libFuzzer. Built by scripts/fuzz/run.sh with `-sanitize=fuzzer,address`: `main` hands over to libFuzzer's driver.
import PackageDescription

let package = Package(
    name: "OthelloFuzz",
    dependencies: [.package(name: "OthelloGPT", path: "../../..")],
    targets: [
        // libFuzzer's driver, and a count of the bytes each input makes the readers allocate (AddressSanitizer's hooks).
        .target(name: "CFuzzerSupport"),
        .executableTarget(
            name: "othello-fuzz",
            dependencies: [
                "CFuzzerSupport",
                .product(name: "WorkbenchSupport", package: "OthelloGPT"),
                .product(name: "OthelloRules", package: "OthelloGPT"),
                .product(name: "OthelloModel", package: "OthelloGPT"),
                .product(name: "OthelloTraining", package: "OthelloGPT"),
                .product(name: "OthelloProbes", package: "OthelloGPT"),
                .product(name: "OthelloInterventions", package: "OthelloGPT"),
                .product(name: "OthelloExplorer", package: "OthelloGPT"),
                .product(name: "OthelloSAEs", package: "OthelloGPT"),
                .product(name: "OthelloPlots", package: "OthelloGPT"),
            ]
        ),
    ]
)
