// ModuleTests: the module tree: names, freezing, counts, state dicts, replacement, hooks, printing.

import Testing
@testable import TesseraTensor
@testable import TesseraNN

/// a two-level model shaped like an encoder: embed, layer.0/1 each with an ffn, and a buffer
private final class ToyBlock: Module {
    init(_ d: Int, seed: UInt64) throws {
        super.init()
        let g = Generator(seed: seed)
        try registerModule("up", Linear(d, 2 * d, generator: g))
        try registerModule("down", Linear(2 * d, d, bias: false, generator: g))
    }
    override func forward(_ x: Tensor) throws -> Tensor {
        try children[1].module(children[0].module(x).relu())
    }
}

private final class ToyModel: Module {
    init(width: Int = 4) throws {
        super.init()
        try registerModule("embed", Linear(3, width, generator: Generator(seed: 1)))
        try registerModule("layer", ModuleList([ToyBlock(width, seed: 2), ToyBlock(width, seed: 3)]))
        try registerBuffer("position", Tensor.arange(0, 5))
    }
    override func forward(_ x: Tensor) throws -> Tensor {
        var h = try children[0].module(x)
        for (_, block) in children[1].module.children { h = try block(h) }
        return h
    }
}

@Suite struct ModuleTests {
    @Test func dottedNamesInRegistrationOrder() throws {
        let m = try ToyModel()
        #expect(
            m.namedParameters().map(\.name) == [
                "embed.weight", "embed.bias",
                "layer.0.up.weight", "layer.0.up.bias", "layer.0.down.weight",
                "layer.1.up.weight", "layer.1.up.bias", "layer.1.down.weight",
            ])
        #expect(m.namedBuffers().map(\.name) == ["position"])
        #expect(
            m.namedModules().map(\.name) == [
                "", "embed", "layer", "layer.0", "layer.0.up", "layer.0.down",
                "layer.1", "layer.1.up", "layer.1.down",
            ])
        #expect(m.module(at: "layer.1.up") is Linear)
        #expect(m.module(at: "layer.2") == nil)
        #expect(m.parameterCount == (12 + 4) + 2 * (32 + 8 + 32))
    }

    @Test func registrationErrors() throws {
        let m = try ToyModel()
        expectTensorError("register_parameter") { try m.registerParameter("position", Tensor.zeros([1])) }
        expectTensorError("register_parameter") { try m.registerParameter("a.b", Tensor.zeros([1])) }
        expectTensorError("register_parameter") { try m.registerParameter("ints", Tensor.zeros([1], dtype: .i64)) }
        expectTensorError("register_module") { try m.module(at: "layer.0")!.registerModule("loop", m) }
    }

    @Test func freezeAndUnfreezeByPattern() throws {
        let m = try ToyModel()
        let frozen = try m.freeze()
        #expect(frozen.count == 8 && m.trainableParameterCount == 0)
        #expect(try m.unfreeze("layer.*.up.bias") == ["layer.0.up.bias", "layer.1.up.bias"])
        #expect(try m.unfreeze("layer.1").count == 3)  // a module path selects everything under it
        #expect(try m.unfreeze("embed.weigh?") == ["embed.weight"])
        #expect(
            m.trainableParameters().map(\.name) == [
                "embed.weight", "layer.0.up.bias", "layer.1.up.weight",
                "layer.1.up.bias", "layer.1.down.weight",
            ])
        #expect(m.trainableParameterCount == 12 + 8 + 32 + 8 + 32)
        // "layer.1" must not select "layer.10...": prefixes end at a dot
        #expect(!NamePattern("layer.1").selects("layer.10.up.weight"))
        #expect(NamePattern("*.bias").selects("layer.0.up.bias"))
        expectTensorError("freeze") { try m.freeze("encoder.*") }
        // frozen parameters get no gradient
        try m.freeze("embed")
        let x = try Tensor.randn([2, 3], generator: Generator(seed: 9))
        try m(x).sum().backward()
        #expect(m.module(at: "embed")!.parameter("weight")!.grad == nil)
        #expect(m.module(at: "layer.1.up")!.parameter("weight")!.grad != nil)
    }

    @Test func trainAndEvalReachTheWholeTree() throws {
        let m = try ToyModel()
        m.eval()
        #expect(m.namedModules().allSatisfy { !$0.module.training })
        m.train()
        #expect(m.namedModules().allSatisfy { $0.module.training })
    }

    @Test func stateDictRoundTripAndReport() throws {
        let a = try ToyModel(), b = try ToyModel()
        try noGrad { for (_, t) in b.namedParameters() { try t.copy_(t.mul(0)) } }
        let report = try b.loadStateDict(a.stateDict())
        #expect(report.isClean && report.loaded.count == 9)
        let x = try Tensor.randn([2, 3], generator: Generator(seed: 4))
        #expect(try a(x).toDoubles() == b(x).toDoubles())

        var d = a.stateDict()
        d["layer.0.up.weight"] = nil
        d["layer.9.up.weight"] = try Tensor.zeros([1])
        d["embed.bias"] = try Tensor.zeros([5])
        expectTensorError("load_state_dict") { try b.loadStateDict(d) }
        let loose = try b.loadStateDict(d, strict: false)
        #expect(loose.missing == ["layer.0.up.weight"])
        #expect(loose.unexpected == ["layer.9.up.weight"])
        #expect(loose.misShaped.map(\.name) == ["embed.bias"] && loose.misShaped[0].expected == [4] && loose.misShaped[0].got == [5])
        #expect(loose.description.contains("mis-shaped: embed.bias (model 4, dict 5)"))
        // a strict failure copies nothing
        let c = try ToyModel()
        let before = try c.module(at: "embed")!.requiredParameter("weight").toDoubles()
        var bad = a.stateDict()
        bad["extra"] = try Tensor.zeros([1])
        expectTensorError("load_state_dict") { try c.loadStateDict(bad) }
        #expect(try c.module(at: "embed")!.requiredParameter("weight").toDoubles() == before)
    }

    @Test func replaceModuleByName() throws {
        let m = try ToyModel()
        let replacement = try Linear(4, 8, generator: Generator(seed: 5))
        let old = try m.replaceModule(at: "layer.0.up", with: replacement)
        #expect((old as? Linear)?.outFeatures == 8)
        #expect(m.module(at: "layer.0.up") === replacement)
        #expect(m.namedParameters().contains { $0.tensor === replacement.parameter("weight") })
        expectTensorError("replace_module") { try m.replaceModule(at: "layer.7", with: replacement) }
        expectTensorError("replace_module") { try m.replaceModule(at: "", with: replacement) }
        expectTensorError("replace_module") { try m.replaceModule(at: "layer.0.up", with: m) }
    }

    @Test func forwardHooksSeeNamedOutputs() throws {
        let m = try ToyModel()
        var seen: [(String, [Int])] = []
        let handle = try m.addForwardHook("layer.?") { name, out in seen.append((name, out.shape)) }
        #expect(handle.count == 2)
        _ = try m(Tensor.randn([5, 3], generator: Generator(seed: 6)))
        #expect(seen.map(\.0) == ["layer.0", "layer.1"] && seen.allSatisfy { $0.1 == [5, 4] })
        handle.remove()
        _ = try m(Tensor.randn([5, 3], generator: Generator(seed: 6)))
        #expect(seen.count == 2)
        expectTensorError("add_forward_hook") { try m.addForwardHook("nothing.here") { _, _ in } }
    }

    @Test func printsStructureShapesAndCounts() throws {
        let m = try ToyModel()
        try m.freeze("embed")
        #expect(
            m.description == """
                ToyModel()  position 5 (buffer)  [160 parameters, 144 trainable]
                  embed: Linear(3 -> 4)  weight 4x3 (frozen), bias 4 (frozen)  [16]
                  layer: ModuleList(2)  [144]
                    0: ToyBlock()  [72]
                      up: Linear(4 -> 8)  weight 8x4, bias 8  [40]
                      down: Linear(8 -> 4, bias: false)  weight 4x8  [32]
                    1: ToyBlock()  [72]
                      up: Linear(4 -> 8)  weight 8x4, bias 8  [40]
                      down: Linear(8 -> 4, bias: false)  weight 4x8  [32]
                """)
        #expect(try Linear(384, 1536).layerDescription == "Linear(384 -> 1536)")
        #expect(groupedDigits(1_181_568) == "1,181,568" && groupedDigits(12) == "12")
    }

    @Test func toF64KeepsFrozenState() throws {
        let m = try ToyModel()
        try m.freeze("layer.0")
        try m.to(.f64)
        #expect(m.namedParameters().allSatisfy { $0.tensor.dtype == .f64 })
        #expect(m.trainableParameterCount == 160 - 72)
        #expect(m.buffer("position")!.dtype == .f64)
    }
}
