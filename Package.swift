// swift-tools-version:6.0
// Tessera: Lua 5.4 embedded in Swift for modular, parameter-efficient fine-tuning.
// Targets follow the layer table of DESIGN.md; each layer imports only those below it.
import PackageDescription

let release: [SwiftSetting] = [.unsafeFlags(["-Ounchecked"], .when(configuration: .release))]

let package = Package(
    name: "Tessera",
    products: [
        .executable(name: "tessera", targets: ["tessera"]),
        .library(name: "TesseraTensor", targets: ["TesseraTensor"]),
    ],
    targets: [
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CLua", pkgConfig: "lua5.4", providers: [.apt(["liblua5.4-dev"])]),
        .systemLibrary(name: "CReadline", providers: [.apt(["libreadline-dev"])]),
        .target(name: "LuaShim", dependencies: ["CLua"]),
        .target(name: "TesseraTensor", dependencies: ["CBLAS"], swiftSettings: release),
        .executableTarget(name: "tessera", dependencies: ["TesseraTensor"]),
        .executableTarget(name: "tessera-bench", dependencies: ["TesseraTensor", "CBLAS"], swiftSettings: release),
        .testTarget(name: "TesseraTensorTests", dependencies: ["TesseraTensor"],
                    resources: [.copy("Golden")]),
    ],
    swiftLanguageModes: [.v5]
)
