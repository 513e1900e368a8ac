// swift-tools-version:6.0
// Tessera: Lua 5.4 embedded in Swift for modular, parameter-efficient fine-tuning.
// Targets follow the layer table of DESIGN.md; each layer imports only those below it.
import Foundation
import PackageDescription

// Kernels are written to auto-vectorise; on x86-64 the baseline (SSE2) would leave 3/4 of each
// vector unit idle. Haswell's AVX2+FMA runs on every x86-64 server since 2013; set
// TESSERA_TARGET_CPU (e.g. znver4, native LLVM names only) to tune for another machine.
#if arch(x86_64)
    let targetCPU = ProcessInfo.processInfo.environment["TESSERA_TARGET_CPU"] ?? "haswell"
    let cpuFlags = ["-target-cpu", targetCPU]
#else
    let cpuFlags: [String] = []
#endif
let release: [SwiftSetting] = [
    .unsafeFlags(["-Ounchecked", "-enforce-exclusivity=unchecked"] + cpuFlags, .when(configuration: .release))
]

let package = Package(
    name: "Tessera",
    products: [
        .executable(name: "tessera", targets: ["tessera"]),
        .library(name: "TesseraNN", targets: ["TesseraNN"]),
        .library(name: "TesseraIO", targets: ["TesseraIO"]),
        .library(name: "TesseraMethods", targets: ["TesseraMethods"]),
        .library(name: "TesseraLua", targets: ["TesseraLua"]),
        .library(name: "TesseraTensor", targets: ["TesseraTensor"]),
    ],
    targets: [
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CLua", pkgConfig: "lua5.4", providers: [.apt(["liblua5.4-dev"])]),
        .systemLibrary(name: "CReadline", providers: [.apt(["libreadline-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .target(name: "LuaShim", dependencies: ["CLua"]),
        .target(name: "TesseraTensor", dependencies: ["CBLAS"], swiftSettings: release),
        .target(name: "TesseraNN", dependencies: ["TesseraTensor"], swiftSettings: release),
        .target(name: "TesseraIO", dependencies: ["TesseraTensor", "TesseraNN", "CZlib"], swiftSettings: release),
        .target(name: "TesseraMethods", dependencies: ["TesseraTensor", "TesseraNN", "TesseraIO", "CBLAS"], swiftSettings: release),
        .target(
            name: "TesseraLua", dependencies: ["LuaShim", "CLua", "TesseraTensor", "TesseraNN", "TesseraIO", "TesseraMethods"],
            swiftSettings: release),
        .target(name: "TesseraNotebook", dependencies: ["TesseraLua", "LuaShim", "CLua", "CReadline"], swiftSettings: release),
        .executableTarget(name: "tessera", dependencies: ["TesseraNotebook", "TesseraLua", "TesseraTensor", "CLua"]),
        .executableTarget(
            name: "tessera-bench", dependencies: ["TesseraTensor", "TesseraNN", "TesseraIO", "TesseraMethods", "CBLAS"], swiftSettings: release),
        .target(name: "TesseraTestSupport", dependencies: ["TesseraTensor"], path: "Tests/TesseraTestSupport"),
        .testTarget(
            name: "TesseraTensorTests", dependencies: ["TesseraTensor", "TesseraTestSupport"],
            resources: [.copy("Golden")]),
        .testTarget(
            name: "TesseraNNTests", dependencies: ["TesseraNN", "TesseraTensor", "TesseraTestSupport"],
            resources: [.copy("Golden")]),
        .testTarget(
            name: "TesseraIOTests", dependencies: ["TesseraIO", "TesseraNN", "TesseraTensor", "TesseraTestSupport"],
            resources: [.copy("Golden")]),
        .testTarget(name: "TesseraNotebookTests", dependencies: ["TesseraNotebook"]),
        .testTarget(
            name: "TesseraMethodsTests", dependencies: ["TesseraMethods", "TesseraNN", "TesseraTensor", "TesseraTestSupport"]),
    ],
    swiftLanguageModes: [.v5]
)
