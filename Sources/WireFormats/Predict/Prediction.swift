import Foundation
import JSONText

/// One clip's answer: the top class, its softmax probability, the top-k list and, when asked, the logits.
public struct Prediction: Sendable, Equatable {
    public struct Ranked: Sendable, Equatable {
        public var classID: Int
        public var label: String
        public var score: Double
    }

    public var classID: Int
    public var label: String
    public var score: Double
    public var topK: [Ranked]
    public var logits: [Float]?

    /// Softmax over one row of logits, ranked; ties keep the lower class id.
    public init(logits row: ArraySlice<Float>, labels: [String], topK count: Int, includeLogits: Bool) {
        let probabilities = Self.softmax(row)
        let ranked = probabilities.indices.sorted {
            probabilities[$0] != probabilities[$1] ? probabilities[$0] > probabilities[$1] : $0 < $1
        }
        let label = { (id: Int) in id < labels.count ? labels[id] : "class_\(id)" }
        topK = ranked.prefix(max(1, count)).map { Ranked(classID: $0, label: label($0), score: probabilities[$0]) }
        classID = topK[0].classID
        self.label = topK[0].label
        score = topK[0].score
        logits = includeLogits ? Array(row) : nil
    }

    /// The softmax of one row of logits, in double and max-subtracted (no overflow for large logits): the one
    /// every answer that reports probabilities uses.
    public static func softmax(_ row: ArraySlice<Float>) -> [Double] {
        let maximum = Double(row.max() ?? 0)
        let exps = row.map { Foundation.exp(Double($0) - maximum) }
        let total = exps.reduce(0, +)
        return exps.map { $0 / total }
    }

    /// Answers for a batch of logits [batch, K].
    public static func batch(logits: [Float], numClasses: Int, labels: [String], topK: Int,
                             includeLogits: Bool) -> [Prediction] {
        stride(from: 0, to: logits.count, by: numClasses).map { start in
            Prediction(logits: logits[start..<start + numClasses], labels: labels, topK: topK, includeLogits: includeLogits)
        }
    }
}

/// `{"predictions": [...]}` as bytes. Written by hand: the shape is fixed, and Swift's shortest
/// round-trip float formatting keeps every logit exact.
public enum PredictionEncoder {
    public static func encode(_ predictions: [Prediction]) -> [UInt8] {
        var out = JSONWriter()
        out.raw("{\"predictions\":[")
        for (i, prediction) in predictions.enumerated() {
            if i > 0 { out.raw(",") }
            out.raw("{\"class_id\":\(prediction.classID),\"label\":")
            out.string(prediction.label)
            out.raw(",\"score\":")
            out.number(prediction.score)
            out.raw(",\"top_k\":[")
            for (j, entry) in prediction.topK.enumerated() {
                if j > 0 { out.raw(",") }
                out.raw("{\"class_id\":\(entry.classID),\"label\":")
                out.string(entry.label)
                out.raw(",\"score\":")
                out.number(entry.score)
                out.raw("}")
            }
            out.raw("]")
            if let logits = prediction.logits {
                out.raw(",\"logits\":[")
                for (j, value) in logits.enumerated() {
                    if j > 0 { out.raw(",") }
                    out.number(Double(value), asFloat: true)
                }
                out.raw("]")
            }
            out.raw("}")
        }
        out.raw("]}")
        return out.bytes
    }
}
