// PlotLibrary: the Lua `plot` library: plot.line, plot.scatter, plot.bar, plot.hist and
// plot.heatmap make a plot object; its methods overlay series (p:add_line ...), change options
// (p:set), and render it (p:svg(), p:text(), p:save(path)). A plot prints as a terminal chart
// and displays as SVG in notebooks (Display.register). The drawing is in Plot/, free of Lua.

import CLua
import LuaShim
import TesseraLua

/// A figure held by a Lua value; methods change it in place.
final class PlotObject {
    var figure = Figure()
}

let plotMetatableName = "tessera.Plot"
nonisolated(unsafe) let plotMetatableKey = UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 1)
nonisolated(unsafe) let plotMethodsKey = UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 1)

extension LuaStack {
    func plot(at i: Int32) -> PlotObject? { retainedObject(at: i, metatable: plotMetatableKey, as: PlotObject.self) }

    func checkPlot(_ i: Int32, _ fn: String) throws -> PlotObject {
        guard let p = plot(at: i) else { throw LuaError.argument(i, fn, "plot expected, got \(typeName(i))") }
        return p
    }
}

/// The kinds of series, each read from Lua arguments starting at `first` into a plot.
enum PlotKind: String, CaseIterable {
    case line, scatter, bar, hist, heatmap

    var extraOptions: [String] {
        switch self {
        case .line, .scatter: return []
        case .bar: return []
        case .hist: return ["bins"]
        case .heatmap: return []
        }
    }
    var rawOptions: [String] {
        switch self {
        case .line, .scatter: return ["y"]
        case .bar: return []
        case .hist: return ["range"]
        case .heatmap: return ["rows", "cols"]
        }
    }

    /// Adds the series given by the arguments from `first` on to `p`.
    func add(_ s: LuaStack, _ first: Int32, _ fn: String, to p: PlotObject) throws {
        let L = s.L
        var series: [Series] = []
        var optionsAt = first + 1
        func pair(_ x: [Double], _ y: [Double], _ label: String?) throws -> Series {
            do {
                return try Series(self == .scatter ? .scatter(x: x, y: y) : .line(x: x, y: y), label: label)
            } catch let e as PlotError { throw LuaError.argument(first, fn, e.message) }
        }
        switch self {
        case .line, .scatter:
            if s.isHistory(first) {
                let keys = try s.stringOrList(first + 1, fn, key: "y") ?? ["loss"]
                for h in try s.historySeries(first, fn, keys: keys) { series.append(try pair(h.x, h.y, keys.count > 1 ? h.label : nil)) }
                if keys.count == 1 && p.figure.yLabel == nil { p.figure.yLabel = keys[0] }
                if p.figure.xLabel == nil { p.figure.xLabel = "step" }
            } else if s.isSeriesList(first) {
                for k in stride(from: 1, through: Int(lua_rawlen(L, first)), by: 1) {
                    lua_rawgeti(L, first, lua_Integer(k))
                    defer { lua_settop(L, -2) }
                    series.append(try seriesSpec(s, lua_gettop(L), fn, number: k, pair))
                }
            } else if s.tensor(at: first + 1) != nil || lua_type(L, first + 1) == LUA_TTABLE && lua_rawlen(L, first + 1) > 0 {
                series.append(try pair(try s.plotNumbers(first, fn, "x"), try s.plotNumbers(first + 1, fn, "y"), nil))
                optionsAt = first + 2
            } else {
                let y = try s.plotNumbers(first, fn, "y")
                series.append(try pair(y.indices.map { Double($0 + 1) }, y, nil))
            }
        case .bar:
            var labels: [String]?, values: [Double]
            if s.tensor(at: first + 1) != nil || lua_type(L, first + 1) == LUA_TTABLE && lua_rawlen(L, first + 1) > 0 {
                labels = try s.plotLabels(first, fn, "labels")
                values = try s.plotNumbers(first + 1, fn, "values")
                optionsAt = first + 2
            } else {
                values = try s.plotNumbers(first, fn, "values")
            }
            let names = labels ?? values.indices.map { "\($0 + 1)" }
            do { series.append(try Series(.bars(categories: names, values: values))) } catch let e as PlotError {
                throw LuaError.argument(first, fn, e.message)
            }
        case .hist:
            let values = try s.plotNumbers(first, fn, "values")
            let opts = try s.options(optionsAt, fn, allowed: figureOptions + extraOptions, raw: rawOptions)
            var range: (Double, Double)?
            if lua_type(L, optionsAt) == LUA_TTABLE {
                lua_getfield(L, optionsAt, "range")
                defer { lua_settop(L, -2) }
                if !s.isNoneOrNil(-1) {
                    let r = try s.plotNumbers(-1, fn, "option 'range'")
                    guard r.count == 2 else { throw LuaError.argument(optionsAt, fn, "option 'range' must be {min, max}") }
                    range = (r[0], r[1])
                }
            }
            do { series.append(try Series(.histogram(try Histogram(values: values, bins: try opts.int("bins"), range: range)))) } catch let e
                as PlotError
            {
                throw LuaError.argument(first, fn, e.message)
            }
        case .heatmap:
            let rows = try s.plotMatrix(first, fn)
            var rowLabels: [String]?, colLabels: [String]?
            if lua_type(L, optionsAt) == LUA_TTABLE {
                lua_getfield(L, optionsAt, "rows")
                lua_getfield(L, optionsAt, "cols")
                defer { lua_settop(L, -3) }
                rowLabels = try s.plotLabels(-2, fn, "option 'rows'")
                colLabels = try s.plotLabels(-1, fn, "option 'cols'")
            }
            do { series.append(try Series(.heatmap(try Heatmap(values: rows, rowLabels: rowLabels, columnLabels: colLabels)))) } catch let e
                as PlotError
            {
                throw LuaError.argument(first, fn, e.message)
            }
        }
        let opts = try s.options(optionsAt, fn, allowed: figureOptions + extraOptions, raw: rawOptions)
        if let label = try opts.string("label"), series.count == 1 { series[0].label = label }
        var figure = p.figure
        try opts.apply(to: &figure, fn, arg: optionsAt)
        for x in series {
            do { try figure.add(x) } catch let e as PlotError { throw LuaError.argument(first, fn, e.message) }
        }
        p.figure = figure
    }

    /// one element of a list of series: numbers (y), {x, y, label=} or {x=, y=, label=}
    private func seriesSpec(
        _ s: LuaStack, _ i: Int32, _ fn: String, number k: Int, _ pair: ([Double], [Double], String?) throws -> Series
    ) throws -> Series {
        let L = s.L
        if s.tensor(at: i) != nil || lua_type(L, i) == LUA_TTABLE && lua_rawgeti(L, i, 1) == LUA_TNUMBER {
            if s.tensor(at: i) == nil { lua_settop(L, -2) }
            let y = try s.plotNumbers(i, fn, "series \(k)")
            return try pair(y.indices.map { Double($0 + 1) }, y, nil)
        }
        if s.tensor(at: i) == nil && lua_type(L, i) == LUA_TTABLE { lua_settop(L, -2) }
        guard lua_type(L, i) == LUA_TTABLE else { throw LuaError.argument(1, fn, "series \(k) must be a table, got \(s.typeName(i))") }
        lua_getfield(L, i, "label")
        let label = s.string(at: -1)
        lua_settop(L, -2)
        var x: [Double]?, y: [Double]
        if lua_getfield(L, i, "y") != LUA_TNIL {
            y = try s.plotNumbers(-1, fn, "series \(k) y")
            if lua_getfield(L, i, "x") != LUA_TNIL { x = try s.plotNumbers(-1, fn, "series \(k) x") }
            lua_settop(L, -3)
        } else {
            lua_settop(L, -2)
            lua_rawgeti(L, i, 1)
            lua_rawgeti(L, i, 2)
            defer { lua_settop(L, -3) }
            guard !s.isNoneOrNil(-1) else { throw LuaError.argument(1, fn, "series \(k) needs y (as {x, y} or {x=, y=})") }
            x = try s.plotNumbers(-2, fn, "series \(k) x")
            y = try s.plotNumbers(-1, fn, "series \(k) y")
        }
        return try pair(x ?? y.indices.map { Double($0 + 1) }, y, label)
    }
}

public enum PlotLibrary {
    /// Defines the global `plot` and the plot methods in `runtime`'s state, and makes plots
    /// display as SVG (notebooks) and terminal charts (text).
    public static func install(in runtime: LuaRuntime) {
        let L = runtime.L
        runtime.newRetainedMetatable(plotMetatableName, key: plotMetatableKey, shownAs: "plot")
        runtime.setFunction("__tostring", qualifiedName: "tostring") { s in
            s.push(TerminalRenderer.render(try s.checkPlot(1, "tostring").figure, style: .current()))
            return 1
        }
        runtime.setMethodIndex(methodsKey: plotMethodsKey, qualifiedName: "index") { s in s.pushNil() }
        lua_settop(L, -2)
        runtime.openMethodTable(key: plotMethodsKey, registryName: plotMetatableName + ".methods") { openMethods(runtime) }
        lua_createtable(L, 0, 8)
        openFunctions(runtime)
        lua_setglobal(L, "plot")
        Display.register(metatable: plotMetatableName) { s, i in
            guard let p = s.plot(at: i) else { return MimeBundle(text: "plot") }
            // a notebook stores plain text; a terminal gets its width and colours
            let style = Display.sink == nil ? TerminalStyle.current() : TerminalStyle(width: 72)
            return MimeBundle(["text/plain": TerminalRenderer.render(p.figure, style: style), "image/svg+xml": SVGRenderer.render(p.figure)])
        }
    }

    static let optionsHelp = """
        Options (every plot function and add_ method): title, xlabel, ylabel, legend (true/false;
        default: shown when a series has a label), logx, logy (log scales: values <= 0 are left
        out), width, height (SVG pixels, default 640x400), label (the series' legend entry).
        """

    /// Registers `name` in the table on top of the stack with its help entry.
    static func def(
        _ runtime: LuaRuntime, _ qualified: String, _ signature: String, _ summary: String, details: String = "", example: String,
        _ body: @escaping LuaFunctionBody
    ) {
        let name = String(qualified.split(whereSeparator: { $0 == "." || $0 == ":" }).last ?? "")
        runtime.pushDocumentedFunction(
            HelpEntry(name: qualified, signature: signature, summary: summary, details: details, example: example), body)
        lua_setfield(runtime.L, -2, name)
    }

    static func openFunctions(_ runtime: LuaRuntime) {
        Help.addTopic(
            "plot",
            """
            plot: charts of training curves, distributions and matrices. A plot prints as a Unicode
            chart in a terminal, displays as SVG in a notebook, and saves as .svg (or .txt). Series
            are overlaid with p:add_line, p:add_scatter, p:add_bar, p:add_hist (help("Plot")).
            """)
        let signatures: [PlotKind: (String, String, String, String)] = [
            .line: (
                "plot.line([x,] y [, opts]) | plot.line(history [, {y=}]) | plot.line{series, ...}",
                "A line chart of y against x (default 1, 2, ...), of an nn.fit history, or of several series.",
                """
                x and y are tables of numbers or 1-D tensors. A history from nn.fit plots its loss against
                step; y = "grad_norm" or y = {"loss", "lr"} picks columns, and a metric name returned by
                eval (y = "accuracy") plots history.eval. A list of series overlays them: each is a
                sequence of y values, {x, y, label = "name"} or {x = , y = , label = }. NaN and
                infinite values break the line.
                """,
                "local p = plot.line({1, 2, 3, 4}, {1, 4, 9, 16}, {title = \"squares\", xlabel = \"n\", label = \"n^2\"})\np:add_line({1, 2, 3, 4}, {1, 8, 27, 64}, {label = \"n^3\"})\nprint(p)"
            ),
            .scatter: (
                "plot.scatter([x,] y [, opts])", "Points at (x, y), for example predictions against gold values.",
                "Takes the same data as plot.line (tables, 1-D tensors, a history, a list of series).",
                "tensor.manual_seed(0)\nlocal x = tensor.randn(200)\nprint(plot.scatter(x, x * 2 + tensor.randn(200) * 0.5, {xlabel = \"x\", ylabel = \"y\"}))"
            ),
            .bar: (
                "plot.bar([labels,] values [, opts])", "Bars, one per label; several bar series (p:add_bar) are grouped.",
                "labels are strings or numbers (default 1, 2, ...); values a table of numbers or a 1-D tensor.",
                "local p = plot.bar({\"en\", \"tr\", \"sw\"}, {0.91, 0.78, 0.64}, {label = \"LT-SFT\", ylabel = \"accuracy\"})\np:add_bar({\"en\", \"tr\", \"sw\"}, {0.90, 0.71, 0.55}, {label = \"LoRA\"})\nprint(p)"
            ),
            .hist: (
                "plot.hist(values [, {bins=, range={min, max}}])", "A histogram of values (a table or any tensor's elements).",
                "bins defaults to Sturges' rule (log2(n) + 1); range to the values' min and max. NaN and\ninfinite values are left out.",
                "tensor.manual_seed(0)\nprint(plot.hist(tensor.randn(1000), {bins = 20, title = \"N(0, 1)\"}))"
            ),
            .heatmap: (
                "plot.heatmap(matrix [, {rows=, cols=}])", "A matrix (2-D tensor or table of rows) as coloured cells, with a colour bar.",
                "rows and cols label the rows (top to bottom) and columns; for example the density of a sparse\nfine-tuning per layer and matrix, or an attention map. Large matrices are averaged in blocks.",
                "local m = tensor.from{{0.02, 0.10, 0.05}, {0.01, 0.20, 0.07}}\nprint(plot.heatmap(m, {rows = {\"layer 1\", \"layer 2\"}, cols = {\"query\", \"key\", \"value\"}, title = \"density\"}))"
            ),
        ]
        for kind in PlotKind.allCases {
            guard let (signature, summary, details, example) = signatures[kind] else { continue }
            let fn = "plot." + kind.rawValue
            def(runtime, fn, signature, summary, details: details + "\n" + optionsHelp, example: example) { s in
                let p = PlotObject()
                try kind.add(s, 1, fn, to: p)
                s.pushRetained(p, metatable: plotMetatableKey)
                return 1
            }
        }
    }

    static func openMethods(_ runtime: LuaRuntime) {
        Help.addTopic("Plot", "Methods of a plot (made by plot.line, plot.bar, ...), called as p:name(...).")
        let make = "local p = plot.line({3, 1, 2})\n"
        for kind in PlotKind.allCases where kind != .heatmap {
            let method = "add_" + kind.rawValue, fn = "Plot:" + method
            def(
                runtime, fn, "p:\(method)(...)", "Overlays a series taken as plot.\(kind.rawValue) takes it; returns p.",
                details: "Series of one plot share its axes: lines, scatters and histograms mix; bars group.",
                example: kind == .bar
                    ? "local p = plot.bar({\"a\", \"b\"}, {1, 2}, {label = \"first\"})\np:add_bar({\"a\", \"b\"}, {2, 1}, {label = \"second\"})\nprint(p)"
                    : kind == .hist
                        ? "tensor.manual_seed(0)\nlocal p = plot.hist(tensor.randn(500), {label = \"a\", bins = 20})\np:add_hist(tensor.randn(500) + 2, {label = \"b\", bins = 20})\nprint(p)"
                        : make + "p:\(method)({1, 2, 3}, {label = \"more\"})\nprint(p)"
            ) { s in
                let p = try s.checkPlot(1, fn)
                try kind.add(s, 2, fn, to: p)
                lua_settop(s.L, 1)
                return 1
            }
        }
        def(
            runtime, "Plot:set", "p:set(opts)", "Changes options (title, xlabel, ylabel, legend, logx, logy, width, height); returns p.",
            example: make + "p:set{title = \"loss\", logy = true}\nprint(p)"
        ) { s in
            let p = try s.checkPlot(1, "Plot:set")
            let opts = try s.options(2, "Plot:set", allowed: figureOptions.filter { $0 != "label" })
            try opts.apply(to: &p.figure, "Plot:set", arg: 2)
            lua_settop(s.L, 1)
            return 1
        }
        def(
            runtime, "Plot:svg", "p:svg()", "The plot as an SVG document (a string).",
            example: make + "local svg = p:svg()\nprint(#svg, svg:sub(1, 4))"
        ) { s in
            s.push(SVGRenderer.render(try s.checkPlot(1, "Plot:svg").figure))
            return 1
        }
        def(
            runtime, "Plot:text", "p:text([width])", "The plot as a Unicode chart without colour, width columns wide (default: the terminal's).",
            example: make + "print(p:text(40))"
        ) { s in
            let p = try s.checkPlot(1, "Plot:text")
            let width = try s.optInt(2, "Plot:text", TerminalStyle.terminalWidth())
            guard (24...400).contains(width) else { throw LuaError.argument(2, "Plot:text", "width must be 24..400 columns, got \(width)") }
            s.push(TerminalRenderer.render(p.figure, style: TerminalStyle(width: width)))
            return 1
        }
        def(
            runtime, "Plot:save", "p:save(path)", "Writes the plot to path: .svg as SVG, .txt as a 72-column chart; returns p.",
            details: "The file is written under a temporary name and renamed, so it is never left half written.",
            example: make + "local path = os.tmpname() .. \".svg\"\np:save(path)\nprint(io.open(path):read(\"l\"))\nos.remove(path)"
        ) { s in
            let p = try s.checkPlot(1, "Plot:save")
            let path = try s.checkString(2, "Plot:save")
            let lower = path.lowercased()
            let text: String
            if lower.hasSuffix(".svg") {
                text = SVGRenderer.render(p.figure)
            } else if lower.hasSuffix(".txt") {
                text = TerminalRenderer.render(p.figure, style: TerminalStyle(width: 72)) + "\n"
            } else {
                throw LuaError.argument(2, "Plot:save", "the file name must end in .svg or .txt, got '\(path)'")
            }
            do { try writeAtomically(path, text) } catch { throw LuaError("Plot:save: \(error)") }
            lua_settop(s.L, 1)
            return 1
        }
    }
}
