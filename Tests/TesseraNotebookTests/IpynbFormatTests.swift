// IpynbFormatTests: nbformat 4.5 written in Jupyter's layout and read back; sources as a string
// or a list of lines; malformed files give errors that say where.

import XCTest

@testable import TesseraNotebook

final class IpynbFormatTests: XCTestCase {
    func sample() -> Notebook {
        var nb = Notebook(cells: [
            NotebookCell(.markdown, "# Title\nline two"),
            NotebookCell(
                .code, "print('é')\nx", executionCount: 1,
                outputs: [
                    .stream(name: "stdout", text: "é\n"), .stream(name: "stderr", text: "warn\n"),
                    .displayData(MimeBundle(["text/plain": "chart", "image/svg+xml": "<svg>\n</svg>", "image/png": "iVBORw0KGgo="])),
                    .executeResult(executionCount: 1, MimeBundle(["text/plain": "1", "text/html": "<b>1</b>"])),
                ]),
            NotebookCell(
                .code, "error('x')", executionCount: 2, outputs: [.error(name: "LuaError", value: "x", traceback: ["x", "stack traceback:"])]),
            NotebookCell(.code, ""),
        ])
        nb.assignIDs()
        return nb
    }

    func testRoundTrip() throws {
        let nb = sample()
        let text = IpynbFormat.write(nb)
        var back = try IpynbFormat.read(text)
        XCTAssertEqual(back.metadata["kernelspec"], Notebook.kernelspec)
        XCTAssertEqual(back.metadata["language_info"], Notebook.languageInfo)
        back.metadata = [:]
        XCTAssertEqual(back, nb)
        XCTAssertEqual(IpynbFormat.write(try IpynbFormat.read(text)), text, "writing is stable")
    }

    func testJupyterLayout() {
        let text = IpynbFormat.write(sample())
        XCTAssertTrue(text.hasPrefix("{\n \"cells\": [\n  {\n   \"cell_type\": \"markdown\",\n"), text)
        XCTAssertTrue(text.contains("\"source\": [\n    \"# Title\\n\",\n    \"line two\"\n   ]"), "sources as lists of lines")
        XCTAssertTrue(text.contains("\"image/png\": \"iVBORw0KGgo=\""), "base64 stays one string")
        XCTAssertTrue(text.contains("\"image/svg+xml\": [\n"), "SVG is split into lines as nbformat does")
        XCTAssertTrue(text.contains("\"é\\n\""), "non-ASCII kept as it is")
        XCTAssertTrue(text.contains("\"execution_count\": null"), "a cell never run")
        XCTAssertTrue(text.hasSuffix("\"nbformat\": 4,\n \"nbformat_minor\": 5\n}\n"))
    }

    func testSourceAsStringOrLines() throws {
        let text = """
            {"cells": [{"cell_type": "code", "source": "a = 1\\nb", "metadata": {}, "outputs": [], "execution_count": null},
                       {"cell_type": "markdown", "source": ["x\\n", "y"], "metadata": {}},
                       {"cell_type": "code", "source": [], "outputs": [{"output_type": "stream", "name": "stdout", "text": ["a\\n", "b"]}]}],
             "metadata": {}, "nbformat": 4, "nbformat_minor": 2}
            """
        let nb = try IpynbFormat.read(text)
        XCTAssertEqual(nb.cells.map(\.source), ["a = 1\nb", "x\ny", ""])
        XCTAssertEqual(nb.cells[2].outputs, [.stream(name: "stdout", text: "a\nb")])
        XCTAssertTrue(nb.cells.allSatisfy { !$0.id.isEmpty }, "cells of nbformat 4.2 get ids")
    }

    func testMalformedFilesAreErrors() {
        func message(_ text: String) -> String {
            do {
                _ = try IpynbFormat.read(text)
                return "no error"
            } catch {
                return "\(error)"
            }
        }
        XCTAssertTrue(message("{\"cells\": [\n  1,,]}").contains("line 2, column"), message("{\"cells\": [\n  1,,]}"))
        XCTAssertTrue(message("[]").contains("not a JSON object"))
        XCTAssertTrue(message("{\"nbformat\": 3, \"cells\": []}").contains("nbformat 3 is not supported"))
        XCTAssertTrue(message("{\"nbformat\": 4}").contains("no cells"))
        XCTAssertTrue(message("{\"nbformat\": 4, \"cells\": [{\"cell_type\": \"python\"}]}").contains("cell 1: cell_type"))
        XCTAssertTrue(message("{\"nbformat\": 4, \"cells\": [{\"cell_type\": \"code\", \"source\": 3}]}").contains("source must be"))
        XCTAssertTrue(
            message("{\"nbformat\": 4, \"cells\": [{\"cell_type\": \"code\", \"source\": \"\", \"outputs\": [{\"output_type\": \"odd\"}]}]}")
                .contains("output 1: unknown output_type"))
        XCTAssertTrue(message(String(repeating: "[", count: 100_000)).contains("nested too deeply"))
    }

    func testJSONValues() throws {
        let v = try JSON.parse(#"{"a": [1, 2.5, -3e2, true, null], "s": "q\"\\\/\n\u00e9\ud83d\ude00\t"}"#)
        XCTAssertEqual(v["a"], .array([.int(1), .double(2.5), .double(-300), .bool(true), .null]))
        XCTAssertEqual(v["s"], .string("q\"\\/\né😀\t"))
        XCTAssertEqual(JSON.string("a\u{1}b").compact(), "\"a\\u0001b\"")
        XCTAssertEqual(JSON.object(["b": .int(1), "a": .array([.string("x"), .null])]).compact(), #"{"a": ["x", null], "b": 1}"#)
        XCTAssertThrowsError(try JSON.parse("\"\\ud800\""))
        XCTAssertThrowsError(try JSON.parse("1 2"))
    }
}
