// InstructionTests: the instruction-tuning pipeline's pure parts: SQuAD normalisation, exact
// match and token F1, GSM8K's final answer, packed batches (fixed rows, loss only on responses,
// nothing predicted across examples), the bitext builder, JSONL readers (GSM8K, Self-Instruct;
// the real files of ../shared/data when present), and evaluation stopping at <|im_end|>.

import Foundation
import TesseraIO
import Testing

@testable import TesseraMethods
@testable import TesseraNN
@testable import TesseraTensor

/// letters, space (Ġ), newline (Ċ) and the ChatML markers and <pad> as control tokens;
/// <|im_end|> is id 0, <pad> id 2
func chatTokenizer() throws -> Tokenizer {
    let specials = ["<|im_end|>", "<|im_start|>", "<pad>"]
    let tokens = specials + "abcdefghijklmnopqrstuvwxyz".map(String.init) + ["Ġ", "Ċ"]
    return try Tokenizer.bytePairEncoding(tokens: tokens, merges: [], types: tokens.indices.map { $0 < specials.count ? 3 : 1 })
}

/// the shared data folder (../shared/data beside the repository, or $TESSERA_DATA)
let sharedData: String =
    ProcessInfo.processInfo.environment["TESSERA_DATA"]
    ?? URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("shared/data").path
let gsm8kTest = sharedData + "/gsm8k/grade-school-math/grade_school_math/data/test.jsonl"
let selfInstructSeeds = sharedData + "/self_instruct/self-instruct/data/seed_tasks.jsonl"

func temporaryFile(_ text: String) throws -> String {
    let path = NSTemporaryDirectory() + "tessera-\(UUID().uuidString)"
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    return path
}

@Suite struct InstructionTests {
    @Test func normalisationAsSQuAD() {
        #expect(normalizeAnswer("  The  Eiffel\tTower!  ") == "eiffel tower")
        #expect(normalizeAnswer("¿Qué es, an apple?") == "qué es apple")
        #expect(normalizeAnswer("a.b") == "ab")
        #expect(answerExactMatch("Paris.", "paris"))
        #expect(!answerExactMatch("Paris, France", "paris"))
    }

    @Test func tokenF1() {
        #expect(abs(answerTokenF1("the cat sat", "a cat sat down") - 0.8) < 1e-12)
        #expect(answerTokenF1("cat cat", "cat") == 2 * 0.5 * 1 / 1.5)
        #expect(answerTokenF1("", "the") == 1)
        #expect(answerTokenF1("dog", "") == 0)
        #expect(answerTokenF1("dog", "cat") == 0)
    }

    @Test func gsm8kAnswers() {
        #expect(gsm8kFinalAnswer("so 3 + 4 = 7\n#### 1,000") == "1000")
        #expect(gsm8kFinalAnswer("#### $18.") == "18")
        #expect(gsm8kFinalAnswer("The answer is -3.5.") == "-3.5")
        #expect(gsm8kFinalAnswer("no number here") == nil)
        let e = gsm8kExample(question: "Q?", solution: "16 - 3 = <<16-3=13>>13 eggs\n#### 13")
        #expect(e.output == "16 - 3 = 13 eggs\n#### 13")
        #expect(e.reference == "13")
    }

    @Test func packedRowsKeepExamplesApart() throws {
        let tok = try chatTokenizer()
        let template = ChatTemplate()
        let examples = [
            InstructionExample(instruction: "ab", output: "ab"), InstructionExample(instruction: "b", input: "a", output: "abc"),
            InstructionExample(instruction: "c", output: "c"), InstructionExample(instruction: "dd", output: "d"),
        ]
        let length = 48
        let pad = tok.tokenToID("<pad>")!
        let packed = try instructionPackedBatch(examples, template: template, tokenizer: tok, length: length, padID: pad)
        let padded = try instructionBatch(examples, template: template, tokenizer: tok, maxLength: length, padID: pad)
        #expect(packed.ids.shape[1] == length)
        #expect(packed.ids.shape[0] < examples.count)
        #expect(packed.responseTokens == padded.responseTokens)
        let ids = try packed.ids.toArray(Int64.self), labels = try packed.labels.toArray(Int64.self)
        let paddedIDs = try padded.ids.toArray(Int64.self), paddedLabels = try padded.labels.toArray(Int64.self)
        // the same tokens, and the same labelled ones, only fewer pads
        #expect(ids.filter { $0 != pad }.sorted() == paddedIDs.filter { $0 != pad }.sorted())
        #expect(labels.filter { $0 != -100 }.sorted() == paddedLabels.filter { $0 != -100 }.sorted())
        for n in labels.indices where labels[n] != -100 { #expect(labels[n] == ids[n]) }
        // no example's first token (<|im_start|> after the previous example's <|im_end|>) is trained on
        let start = Int64(tok.tokenToID("<|im_start|>")!)
        for n in ids.indices where ids[n] == start { #expect(labels[n] == -100) }
        for n in ids.indices where ids[n] == pad { #expect(labels[n] == -100) }
    }

    @Test func packingCutsLongExamplesAndRejectsEmptyInput() throws {
        let tok = try chatTokenizer()
        let long = InstructionExample(instruction: String(repeating: "a", count: 50), output: "b")
        let b = try instructionPackedBatch([long, long], template: ChatTemplate(), tokenizer: tok, length: 16, padID: 0)
        #expect(b.ids.shape == [2, 16])
        #expect(b.responseTokens == 0)
        #expect(throws: TensorError.self) { try instructionPackedBatch([], template: ChatTemplate(), tokenizer: tok, length: 16, padID: 0) }
    }

    @Test func bitextBuilderIsDeterministic() throws {
        let pairs =
            (0..<20).map { (source: "sentence \($0)", target: "frase \($0)") } + [
                (source: "", target: "vacía"), (source: String(repeating: "x", count: 99), target: "larga"),
            ]
        let a = bitextInstructions(pairs, to: "Spanish", count: 5, seed: 3, maxCharacters: 40)
        let b = bitextInstructions(pairs, to: "Spanish", count: 5, seed: 3, maxCharacters: 40)
        let c = bitextInstructions(pairs, to: "Spanish", count: 5, seed: 4, maxCharacters: 40)
        #expect(a == b)
        #expect(a != c)
        #expect(a.count == 5)
        for e in a {
            #expect(e.instruction.hasPrefix("Translate to Spanish: sentence "))
            #expect(e.output == "frase " + e.instruction.dropFirst("Translate to Spanish: sentence ".count))
        }
        #expect(bitextInstructions(pairs, to: "Spanish", count: 100, maxCharacters: 40).count == 20)
        let tsv = try temporaryFile("one\tuno\r\ntwo\tdos\textra\n\n")
        defer { try? FileManager.default.removeItem(atPath: tsv) }
        let read = try readBitextTSV(tsv)
        #expect(read.map(\.source) == ["one", "two"])
        #expect(read.map(\.target) == ["uno", "dos"])
        let bad = try temporaryFile("no tab here\n")
        defer { try? FileManager.default.removeItem(atPath: bad) }
        #expect(throws: TensorError.self) { try readBitextTSV(bad) }
    }

    @Test func bibleModulesByLanguage() throws {
        let dir = NSTemporaryDirectory() + "tessera-bible-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for (folder, lang) in [("kjv", "en"), ("sparv", "es")] {
            try FileManager.default.createDirectory(atPath: dir + "/" + folder, withIntermediateDirectories: true)
            try "[M]\nAbout=x\nLang=\(lang)\n".write(toFile: dir + "/\(folder)/m.conf", atomically: true, encoding: .utf8)
        }
        #expect(try bibleModules(in: dir) == ["en": dir + "/kjv", "es": dir + "/sparv"])
        #expect(throws: TensorError.self) { try bibleInstructions(directory: dir, direction: "en-fr", count: 1) }
    }

    @Test func jsonlReadsGSM8KAndSelfInstruct() throws {
        let path = try temporaryFile(
            """
            {"question": "What is 2 + 3?", "answer": "2 + 3 = <<2+3=5>>5\\n#### 5"}
            {"instruction": "Antonym?", "instances": [{"input": "hot", "output": "cold"}, {"input": "up", "output": "down"}]}
            {"instruction": "Say hi.", "input": "", "output": "Hi."}
            {"something": "else"}

            """)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let ex = try readInstructionJSONL(path)
        #expect(ex.count == 4)
        #expect(ex[0] == InstructionExample(instruction: "What is 2 + 3?", output: "2 + 3 = 5\n#### 5", answer: "5"))
        #expect(ex[2].input == "up" && ex[2].output == "down")
        #expect(ex[3].reference == "Hi.")
        let crlf = try temporaryFile("{\"instruction\": \"a\", \"output\": \"b\"}\r\n{\"instruction\": \"c\", \"output\": \"d\"}\r\n")
        defer { try? FileManager.default.removeItem(atPath: crlf) }
        #expect(try readInstructionJSONL(crlf).map(\.output) == ["b", "d"])
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: gsm8kTest), "needs ../shared/data/gsm8k (or $TESSERA_DATA)"))
    func realGSM8K() throws {
        let ex = try readInstructionJSONL(gsm8kTest)
        #expect(ex.count == 1319)
        #expect(ex[0].answer == "18")
        #expect(ex.allSatisfy { $0.answer.map { !$0.isEmpty && Double($0) != nil } ?? false })
        #expect(ex.allSatisfy { !$0.output.contains("<<") })
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: selfInstructSeeds), "needs ../shared/data/self_instruct (or $TESSERA_DATA)"))
    func realSelfInstructSeeds() throws {
        let ex = try readInstructionJSONL(selfInstructSeeds)
        #expect(ex.count >= 175)
        #expect(ex.allSatisfy { !$0.instruction.isEmpty && !$0.output.isEmpty })
    }

    @Test func evaluationStopsAtEndOfTurn() throws {
        let tok = try chatTokenizer()
        let c = try DecoderConfig(
            vocabSize: tok.vocabularySize, hiddenSize: 8, numHiddenLayers: 1, numAttentionHeads: 2, intermediateSize: 16,
            maxPositionEmbeddings: 64)
        let model = try DecoderForCausalLM(c, generator: Generator(seed: 1))
        // every logit 0: greedy picks id 0, <|im_end|>, at once
        for (name, p) in model.namedParameters() where name.hasSuffix("lm_head.weight") || name.hasSuffix("embed_tokens.weight") {
            _ = p.zero_()
        }
        let examples = [InstructionExample(instruction: "ab", output: ""), InstructionExample(instruction: "b", output: "The b.")]
        var seen: [Int] = []
        let r = try evaluateInstructions(
            model: model, tokenizer: tok, examples: examples, template: ChatTemplate(), maxNewTokens: 5,
            onExample: { i, _ in
                seen.append(i)
                return true
            })
        #expect(seen == [0, 1])
        #expect(r.predictions.map(\.text) == ["", ""])
        #expect(r.exactMatch == 0.5)
        #expect(r.f1 == 0.5)
        let stopped = try evaluateInstructions(
            model: model, tokenizer: tok, examples: examples, template: ChatTemplate(), maxNewTokens: 5, extract: { _ in "b" },
            onExample: { _, _ in false })
        #expect(stopped.predictions.count == 1)
        #expect(stopped.predictions[0].answer == "b")
    }
}
