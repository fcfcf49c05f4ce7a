import DLCMEngine
import Foundation

/// Builds the exposition text: HELP/TYPE headers, samples, escaped label values.
struct PrometheusText {
    var text = ""

    mutating func header(_ name: String, _ type: String, _ help: String) {
        text += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
    }

    mutating func sample(_ name: String, _ labels: [String: String], _ value: Double) {
        text += name
        if !labels.isEmpty {
            text += "{" + labels.sorted(by: { $0.key < $1.key }).map { "\($0.key)=\"\(Self.escape($0.value))\"" }.joined(separator: ",") + "}"
        }
        text += " " + Self.format(value) + "\n"
    }

    mutating func gauge(_ name: String, _ help: String, _ value: Double) {
        header(name, "gauge", help)
        sample(name, [:], value)
    }

    mutating func counter(_ name: String, _ help: String, _ value: Double) {
        header(name, "counter", help)
        sample(name, [:], value)
    }

    mutating func histogram(_ name: String, _ h: Histogram, _ labels: [String: String]) {
        var cumulative: UInt64 = 0
        for (bound, n) in zip(h.bounds, h.counts) {
            cumulative += n
            sample(name + "_bucket", labels.merging(["le": Self.format(bound)]) { a, _ in a }, Double(cumulative))
        }
        sample(name + "_bucket", labels.merging(["le": "+Inf"]) { a, _ in a }, Double(h.count))
        sample(name + "_sum", labels, h.sum)
        sample(name + "_count", labels, Double(h.count))
    }

    static func format(_ v: Double) -> String {
        if v.isInfinite { return v > 0 ? "+Inf" : "-Inf" }
        if v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
        return "\(v)"
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
    }
}
