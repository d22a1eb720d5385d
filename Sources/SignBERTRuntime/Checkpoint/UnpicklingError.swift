/// Why the restricted unpickler stopped. `offset` is the byte offset of the opcode at fault.
public enum UnpicklingError: Error, CustomStringConvertible, Equatable, Sendable {
    /// A global outside the allow-list; nothing was called or imported.
    case refusedGlobal(String)
    /// The input ended inside an opcode or before STOP.
    case truncated(offset: Int)
    /// An opcode byte that is not part of pickle protocols 0 to 5.
    case unknownOpcode(UInt8, offset: Int)
    /// A pickle protocol newer than 5.
    case unsupportedProtocol(Int)
    /// A real opcode this reader refuses on purpose (out-of-band buffers, the extension registry, ...).
    case unsupportedOpcode(String, offset: Int)
    /// The opcode's operands or the stack do not make sense.
    case malformed(String, offset: Int)
    /// A bound meant to stop hostile input from inflating memory or work was reached.
    case limitExceeded(String, offset: Int)

    public var description: String {
        switch self {
        case .refusedGlobal(let name):
            return "refers to \(name), which is not a tensor or plain data; refusing to load it"
        case .truncated(let offset):
            return "pickle ends unexpectedly at byte \(offset)"
        case .unknownOpcode(let byte, let offset):
            let hex = String(byte, radix: 16)
            return "unknown pickle opcode 0x\(hex.count == 1 ? "0" + hex : hex) at byte \(offset)"
        case .unsupportedProtocol(let version):
            return "pickle protocol \(version) is newer than 5, which is the newest this reader knows"
        case .unsupportedOpcode(let name, let offset):
            return "pickle opcode \(name) at byte \(offset) is not supported in a checkpoint"
        case .malformed(let why, let offset):
            return "malformed pickle at byte \(offset): \(why)"
        case .limitExceeded(let why, let offset):
            return "pickle exceeds a safety limit at byte \(offset): \(why)"
        }
    }
}
