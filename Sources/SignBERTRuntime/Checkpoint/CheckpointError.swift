import Foundation

/// Why a checkpoint could not be read or written. Each description is one line naming the file,
/// because the command line prints it as `error: <description>`.
public struct CheckpointError: Error, CustomStringConvertible, Equatable, Sendable {
    public enum Kind: Error, Equatable, Sendable {
        /// The file could not be opened or read (missing, a directory, permissions, I/O error).
        case unreadable(String)
        /// Neither a torch.save zip archive nor a safetensors file.
        case notACheckpoint
        /// A torch.save file from before torch 1.6 (pickles one after another, no zip).
        case legacyTorchFormat
        /// A pickle file that is not a torch.save archive (plain `pickle.dump`).
        case plainPickle
        /// The archive was written on a big-endian machine.
        case bigEndian
        /// The zip container is cut short or damaged.
        case damagedArchive(String)
        /// A member the archive needs (`data.pkl`, a storage `data/N`) is not in it.
        case missingArchiveEntry(String)
        /// data.pkl names a Python global outside the allow-list (`os.system`, a model class, ...).
        case refusedGlobal(String)
        /// data.pkl is not a valid pickle, or uses something a checkpoint never needs.
        case pickle(UnpicklingError)
        /// No model tensors where a state dict was expected.
        case noStateDict(String)
        /// A tensor's layout or bytes are not what its header or the pickle declares.
        case badTensor(name: String, problem: String)
        /// A tensor's element type is not one the runtime converts to float32.
        case unsupportedDType(name: String, dtype: String)
        /// A safetensors header that fails validation.
        case badSafeTensorsHeader(String)
        /// Writing a checkpoint failed.
        case writeFailed(String)
    }

    /// The checkpoint file's path as the user gave it.
    public var path: String
    public var kind: Kind

    public init(path: String, kind: Kind) {
        self.path = path
        self.kind = kind
    }

    public var description: String {
        "\(path): \(detail)"
    }

    /// The problem without the file name.
    public var detail: String {
        switch kind {
        case .unreadable(let reason):
            return "cannot read the file (\(reason))"
        case .notACheckpoint:
            return "not a PyTorch or safetensors checkpoint"
        case .legacyTorchFormat:
            return "legacy (pre-1.6, non-zip) torch.save format is not supported; "
                + "re-save with torch>=1.6 or convert to safetensors"
        case .plainPickle:
            return "a plain pickle file, not a torch.save zip archive; "
                + "re-save with torch>=1.6 or convert to safetensors"
        case .bigEndian:
            return "archive was saved on a big-endian machine (byteorder 'big'); "
                + "re-save it on a little-endian machine or convert to safetensors"
        case .damagedArchive(let why):
            return "truncated or damaged zip archive (\(why))"
        case .missingArchiveEntry(let name):
            return "archive has no member \(name); the file is incomplete or not written by torch.save"
        case .refusedGlobal(let name):
            return "checkpoint refers to \(name), which is not a tensor or plain data; refusing to load it"
        case .pickle(let error):
            return "data.pkl: \(error.description)"
        case .noStateDict(let why):
            return "no model state_dict found: \(why)"
        case .badTensor(let name, let problem):
            return "tensor '\(name)': \(problem)"
        case .unsupportedDType(let name, let dtype):
            return "tensor '\(name)' has dtype \(dtype), which is not supported (float32, float16, bfloat16, float64)"
        case .badSafeTensorsHeader(let why):
            return "invalid safetensors file: \(why)"
        case .writeFailed(let why):
            return "cannot write checkpoint: \(why)"
        }
    }
}
