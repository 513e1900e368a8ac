// NotebookRunnerTests: cells run in one state; printed text, results, displays and errors land
// in the right outputs; Markdown export writes SVG as files.

import XCTest

@testable import TesseraNotebook

final class NotebookRunnerTests: XCTestCase {
    func testOutputsOfEachKind() throws {
        var nb = PercentFormat.read(
            """
            -- %%
            local t = tensor.eye(2)
            print("a", 1)
            io.stderr:write("e\\n")
            t

            -- %%
            display(setmetatable({}, {__display = function() return {["image/svg+xml"] = "<svg/>", ["text/plain"] = "pic"} end}))
            print("after")
            t:sum();

            -- %%
            error("boom")

            -- %%
            print("skipped")

            """)
        let session = try Session(stdlibPath: nil)
        let report = try NotebookRunner(session: session, options: .init(echo: false)).run(&nb)
        XCTAssertEqual(report.failedCells, [3])
        XCTAssertEqual(report.cellsRun, 3)
        let first = nb.cells[0].outputs
        XCTAssertEqual(first.count, 3)
        XCTAssertEqual(first[0], .stream(name: "stdout", text: "a\t1\n"))
        XCTAssertEqual(first[1], .stream(name: "stderr", text: "e\n"))
        guard case .executeResult(1, let bundle) = first[2] else { return XCTFail("no result: \(first)") }
        XCTAssertTrue(bundle.data["text/html"]?.contains("<td>1</td>") == true)
        let second = nb.cells[1].outputs
        XCTAssertEqual(
            second, [.displayData(MimeBundle(["image/svg+xml": "<svg/>", "text/plain": "pic"])), .stream(name: "stdout", text: "after\n")])
        guard case .error("LuaError", let value, let traceback) = nb.cells[2].outputs.first else { return XCTFail("no error") }
        XCTAssertEqual(value, "cell 3:1: boom")
        XCTAssertTrue(traceback.contains("stack traceback:"))
        XCTAssertEqual(nb.cells[3].executionCount, nil, "nothing runs after an error")

        let (md, assets) = MarkdownExport.render(nb, assetDirectory: "nb_files")
        XCTAssertEqual(assets, [MarkdownExport.Asset(path: "nb_files/cell2_output1.svg", contents: "<svg/>")])
        XCTAssertTrue(md.contains("![cell2_output1](nb_files/cell2_output1.svg)"))
        XCTAssertTrue(md.contains("```lua\nerror(\"boom\")\n```"))
    }

    func testTrailingExpressionAfterStatements() throws {
        let session = try Session(stdlibPath: nil)
        XCTAssertEqual(session.chunk(for: "x = 1\nx + 1"), "x = 1\nreturn x + 1")
        // `local` becomes a session variable (TopLevelLocals)
        XCTAssertEqual(session.chunk(for: "local y = 2\ny\n-- done"), " y = 2\nreturn y\n-- done")
        XCTAssertEqual(session.chunk(for: "for i = 1, 2 do\n  print(i)\nend"), "for i = 1, 2 do\n  print(i)\nend")
        XCTAssertEqual(session.chunk(for: "2 + 2"), "return 2 + 2")
    }
}
