// MetricsTests: accuracy, macro-F1, entity spans and span F1 (seqeval's default mode), and
// perplexity, against numbers worked out by hand in the comments.

import Foundation
import Testing
@testable import TesseraTensor
@testable import TesseraNN

@Suite struct MetricsTests {
    @Test func accuracySkipsIgnoredGold() throws {
        // 4 scored pairs (the -100 is dropped), 3 equal
        #expect(try accuracy(predicted: [0, 1, 2, 1, 0], gold: [0, 2, 2, 1, -100]) == 0.75)
        #expect(try accuracy(predicted: [0, 1], gold: [0, 1], ignoreIndex: nil) == 1)
        #expect(try accuracy(predicted: [3], gold: [-100]).isNaN)
        expectTensorError("accuracy") { try accuracy(predicted: [1, 2], gold: [1]) }
    }

    @Test func macroF1AveragesClassesPresentInEither() throws {
        // class 0: TP 1, predicted 2, gold 1 -> F1 2/3; class 1: TP 2, 2, 3 -> 4/5;
        // class 2 predicted only -> 0; class 3 gold only -> 0; mean over 4 classes = 22/60
        let f1 = try macroF1(predicted: [0, 0, 1, 1, 2], gold: [0, 1, 1, 1, 3])
        #expect(abs(f1 - 22.0 / 60) < 1e-12)
        // perfect on two classes; an ignored position with a third class is not a class
        #expect(try macroF1(predicted: [4, 1, 7], gold: [4, 1, -100]) == 1)
    }

    @Test func entitySpansFollowSeqevalDefaultMode() {
        func spans(_ tags: [String]) -> [String] { entitySpans(tags).map { "\($0.type)\($0.start)-\($0.end)" } }
        #expect(spans(["B-PER", "I-PER", "O", "B-LOC"]) == ["PER0-1", "LOC3-3"])
        // an I- without its B- starts an entity (conlleval; seqeval's non-strict mode)
        #expect(spans(["O", "I-PER", "I-PER"]) == ["PER1-2"])
        #expect(spans(["I-PER", "B-PER", "I-PER"]) == ["PER0-0", "PER1-2"])
        // a change of type ends one entity and starts another
        #expect(spans(["B-LOC", "I-PER"]) == ["LOC0-0", "PER1-1"])
        #expect(spans(["B-PER", "I-PER", "I-LOC", "O"]) == ["PER0-1", "LOC2-2"])
        #expect(spans(["B-PER", "B-PER"]) == ["PER0-0", "PER1-1"])
        // IOBES tags are read too
        #expect(spans(["S-PER", "B-LOC", "E-LOC", "O"]) == ["PER0-0", "LOC1-2"])
        #expect(spans([]) == [])
        #expect(spans(["O", "O"]) == [])
    }

    @Test func spanF1IsMicroOverEntities() throws {
        // seqeval's README example: MISC is found with the wrong start, PER exactly -> 1 of 2 both ways
        let scores = try spanF1(
            predicted: [["O", "O", "B-MISC", "I-MISC", "I-MISC", "I-MISC", "O"], ["B-PER", "I-PER", "O"]],
            gold: [["O", "O", "O", "B-MISC", "I-MISC", "I-MISC", "O"], ["B-PER", "I-PER", "O"]])
        #expect(scores == SpanScores(correct: 1, predicted: 2, gold: 2))
        #expect(scores.f1 == 0.5)
        // 1 correct of 2 predicted and 3 gold: P 1/2, R 1/3, F1 2·(1/6)/(5/6) = 0.4
        let s2 = try spanF1(
            predicted: [["B-PER", "I-PER", "O", "O"], ["B-ORG", "I-ORG"]],
            gold: [["B-PER", "I-PER", "O", "B-LOC"], ["B-ORG", "O"]])
        #expect(s2.precision == 0.5 && abs(s2.recall - 1.0 / 3) < 1e-12 && abs(s2.f1 - 0.4) < 1e-12)
        // no entities anywhere: every score is 0, as seqeval with zero_division=0
        #expect(try spanF1(predicted: [["O"]], gold: [["O"]]).f1 == 0)
        expectTensorError("span_f1") { try spanF1(predicted: [["O"]], gold: [["O", "O"]]) }
        expectTensorError("span_f1") { try spanF1(predicted: [], gold: [["O"]]) }
    }

    @Test func perplexityIsExpOfCrossEntropy() {
        #expect(abs(perplexity(meanCrossEntropy: log(20.0)) - 20) < 1e-12)
        #expect(perplexity(meanCrossEntropy: 0) == 1)
    }
}
