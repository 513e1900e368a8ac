// ModuleDescription: a module tree printed as its structure, each line a layer description with
// its own tensors' shapes and the parameter count under it.
//
//   FeedForward(384 -> 1536, gelu)  [1,181,568 parameters, all trainable]
//     up: Linear(384 -> 1536)  weight 1536x384, bias 1536  [591,360]
//     act: GELU()
//     down: Linear(1536 -> 384)  weight 384x1536, bias 384  [590,208]

import TesseraTensor

extension Module {
    func treeDescription() -> String {
        let total = parameterCount, trainable = trainableParameterCount
        let summary = total == trainable ? "all trainable" : "\(groupedDigits(trainable)) trainable"
        var lines = ["\(ownLine())  [\(groupedDigits(total)) parameters, \(summary)]"]
        appendChildren(to: &lines, indent: "  ")
        return lines.joined(separator: "\n")
    }

    private func appendChildren(to lines: inout [String], indent: String) {
        for (name, child) in children {
            let count = child.parameterCount
            lines.append("\(indent)\(name): \(child.ownLine())\(count > 0 ? "  [\(groupedDigits(count))]" : "")")
            child.appendChildren(to: &lines, indent: indent + "  ")
        }
    }

    /// `Linear(384 -> 1536)  weight 1536x384, bias 1536 (frozen)`
    private func ownLine() -> String {
        let params = namedOwnTensors().map { (name: String, t: Tensor, isBuffer: Bool) -> String in
            let note = isBuffer ? " (buffer)" : t.requiresGrad ? "" : " (frozen)"
            return "\(name) \(dimsString(t.shape))\(note)"
        }
        return params.isEmpty ? layerDescription : layerDescription + "  " + params.joined(separator: ", ")
    }

    private func namedOwnTensors() -> [(String, Tensor, Bool)] {
        ownParameters.map { ($0.name, $0.tensor, false) } + ownBuffers.map { ($0.name, $0.tensor, true) }
    }
}

/// 1181568 -> "1,181,568" (counts are never negative)
func groupedDigits(_ n: Int) -> String {
    let s = String(n)
    var out = ""
    for (i, c) in s.enumerated() {
        if i > 0 && (s.count - i) % 3 == 0 { out.append(",") }
        out.append(c)
    }
    return out
}
