// PercentFormatTests: Jupytext percent `.lua` read and written back unchanged; markers, titles,
// metadata, Markdown comments and the header as Jupytext writes them.

import XCTest

@testable import TesseraNotebook

final class PercentFormatTests: XCTestCase {
    let canonical = """
        -- ---
        -- jupyter:
        --   jupytext:
        --     text_representation:
        --       extension: .lua
        --       format_name: percent
        --       format_version: '1.3'
        --       jupytext_version: 1.16.1
        --   kernelspec:
        --     display_name: Tessera (Lua)
        --     language: lua
        --     name: tessera
        -- ---

        -- %% [markdown]
        -- # Title
        --
        -- Some *text*.

        -- %% Load the data tags=["setup", "x"]
        local x = tensor.eye(2)

        print(x)

        -- %%

        -- %% [raw]
        -- raw text

        -- %%
        x

        """

    func testRoundTripIsExact() {
        let nb = PercentFormat.read(canonical)
        XCTAssertEqual(nb.cells.map(\.kind), [.markdown, .code, .code, .raw, .code])
        XCTAssertEqual(PercentFormat.write(nb), canonical)
    }

    func testCellsAndMetadata() throws {
        let nb = PercentFormat.read(canonical)
        XCTAssertEqual(nb.cells[0].source, "# Title\n\nSome *text*.")
        XCTAssertEqual(nb.cells[1].source, "local x = tensor.eye(2)\n\nprint(x)")
        XCTAssertEqual(nb.cells[1].metadata["title"], .string("Load the data"))
        XCTAssertEqual(nb.cells[1].metadata["tags"], .array([.string("setup"), .string("x")]))
        XCTAssertEqual(nb.cells[2].source, "")
        XCTAssertEqual(nb.cells[3].source, "raw text")
        XCTAssertEqual(nb.metadata["kernelspec"]?["name"], .string("tessera"))
        let rep = nb.metadata["jupytext"]?["text_representation"]
        XCTAssertEqual(rep?["format_version"], .string("1.3"), "a quoted YAML number stays a string")
        XCTAssertEqual(rep?["jupytext_version"], .string("1.16.1"))
        XCTAssertEqual(Set(nb.cells.map(\.id)).count, nb.cells.count, "ids are unique")
    }

    func testMarkerVariants() {
        XCTAssertTrue(PercentFormat.isMarker("-- %%"))
        XCTAssertTrue(PercentFormat.isMarker("--%%"))
        XCTAssertTrue(PercentFormat.isMarker("  -- %% [markdown]"))
        XCTAssertTrue(PercentFormat.isMarker("-- %%% deeper"))
        XCTAssertFalse(PercentFormat.isMarker("-- %%x"))
        XCTAssertFalse(PercentFormat.isMarker("--- %%"))
        XCTAssertFalse(PercentFormat.isMarker("print('-- %%')"))
        let md = PercentFormat.options(afterMarker: "-- %% [md]")
        XCTAssertEqual(md.kind, .markdown)
        let titled = PercentFormat.options(afterMarker: "-- %% A title with = sign? no [markdown] key=\"value\" n=3")
        XCTAssertEqual(titled.kind, .markdown)
        XCTAssertEqual(titled.metadata["key"], .string("value"))
        XCTAssertEqual(titled.metadata["n"], .int(3))
        XCTAssertEqual(titled.metadata["title"], .string("A title with = sign? no"))
        let plain = PercentFormat.options(afterMarker: "-- %% just a title")
        XCTAssertEqual(plain.metadata, ["title": .string("just a title")])
    }

    func testScriptWithoutHeaderOrLeadingMarker() {
        let text = "local a = 1\nprint(a)\n\n-- %%\nprint(2)\n"
        let nb = PercentFormat.read(text)
        XCTAssertEqual(nb.cells.map(\.source), ["local a = 1\nprint(a)", "print(2)"])
        XCTAssertTrue(nb.metadata.isEmpty)
    }

    func testMarkdownWithoutSpaceAndCRLF() {
        let nb = PercentFormat.read("-- %% [markdown]\r\n--no space\r\n-- two\r\n")
        XCTAssertEqual(nb.cells[0].source, "no space\ntwo")
    }

    func testWriteFromNotebook() {
        var nb = Notebook(cells: [
            NotebookCell(.markdown, "# Hi\n\nthere"), NotebookCell(.code, "x = 1", metadata: ["title": .string("T"), "a": .bool(true)]),
        ])
        nb.assignIDs()
        XCTAssertEqual(PercentFormat.write(nb), "-- %% [markdown]\n-- # Hi\n--\n-- there\n\n-- %% T a=true\nx = 1\n")
        XCTAssertEqual(PercentFormat.read(PercentFormat.write(nb)).cells.map(\.source), nb.cells.map(\.source))
    }
}
