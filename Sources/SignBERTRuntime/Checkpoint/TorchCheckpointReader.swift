public import Foundation

/// Reads a `torch.save` zip archive (torch >= 1.6) without Python: `<archive>/data.pkl` through
/// the restricted unpickler, then only the storages (`<archive>/data/<key>`) of the tensors in
/// the chosen state dict. Optimizer state is never read. The file is memory-mapped, so storages
/// that are not read cost nothing.
///
/// Integer and bool tensors (e.g. BatchNorm's `num_batches_tracked`) are converted to Float like
/// the rest, with `storedDType` saying what they were, so the model loader decides whether it
/// needs them. Complex tensors are refused.
public enum TorchCheckpointReader {
    /// Largest data.pkl accepted: a state dict's pickle is kilobytes; this only bounds memory.
    public static let maxPickleBytes = 256 << 20

    public static func read(_ url: URL) throws -> StateDict {
        let file = try CheckpointFile(url)
        let head = try file.read(offset: 0, count: CheckpointFormat.headLength)
        switch CheckpointFormat.detect(head: head, pathExtension: url.pathExtension) {
        case .torchZip: break
        case .legacyTorch: throw CheckpointError(path: url.path, kind: .legacyTorchFormat)
        case .plainPickle: throw CheckpointError(path: url.path, kind: .plainPickle)
        case .safetensors, .unknown: throw CheckpointError(path: url.path, kind: .notACheckpoint)
        }
        let mapped: Data
        do {
            mapped = try Data(contentsOf: file.url, options: .alwaysMapped)
        } catch {
            throw CheckpointError(path: url.path, kind: .unreadable(error.fileErrorDescription))
        }
        return try read(archive: mapped, path: url.path)
    }

    /// A torch.save archive already in memory (the bytes-level entry the fuzz targets use); `path` only
    /// names it in errors. The format is not sniffed here: anything but a zip is a damaged archive.
    public static func read(archive: Data, path: String = "<memory>") throws(CheckpointError) -> StateDict {
        do {
            return try readArchive(archive)
        } catch let kind {
            throw CheckpointError(path: path, kind: kind)
        }
    }

    private static func readArchive(_ mapped: Data) throws(CheckpointError.Kind) -> StateDict {
        let zip = try ZipDirectory(file: mapped)

        // torch names every member `<archive>/...`, where <archive> is the saved file's stem.
        let pickleCandidates = zip.members.keys.filter {
            $0.hasSuffix("/data.pkl") && $0.split(separator: "/", omittingEmptySubsequences: false).count == 2
        }
        guard let picklePath = pickleCandidates.sorted().first, let pickleMember = zip.members[picklePath] else {
            throw .missingArchiveEntry("<archive>/data.pkl")
        }
        let prefix = String(picklePath.dropLast("data.pkl".count))

        if let orderMember = zip.members[prefix + "byteorder"] {
            let order = String(decoding: try zip.contents(of: orderMember).prefix(64), as: UTF8.self)
            switch order.trimmingCharacters(in: .whitespacesAndNewlines) {
            case "little": break
            case "big": throw .bigEndian
            default: throw .damagedArchive("byteorder says '\(order.prefix(20))'")
            }
        }  // Archives from torch 1.6 to 1.9 have no byteorder member and are little-endian.

        guard pickleMember.uncompressedSize <= maxPickleBytes else {
            throw .damagedArchive("data.pkl declares \(pickleMember.uncompressedSize) bytes")
        }
        let pickle = try zip.contents(of: pickleMember)
        let document: PickleDocument
        do {
            document = try Unpickler.unpickle([UInt8](pickle))
        } catch {
            if case .refusedGlobal(let name) = error { throw .refusedGlobal(name) }
            throw .pickle(error)
        }
        let selection = try TorchStateDictSelection.select(from: document)

        var storages: [String: Data] = [:]  // shared storages (tied weights) are read once
        var tensors: [String: Tensor] = [:]
        var order: [String] = []
        for (name, reference) in selection.tensors {
            let storageKey = reference.storage.key
            let bytes: Data
            if let cached = storages[storageKey] {
                bytes = cached
            } else {
                let memberPath = prefix + "data/" + storageKey
                guard let member = zip.members[memberPath] else {
                    throw .missingArchiveEntry("\(memberPath) (the storage of tensor '\(name)')")
                }
                bytes = try zip.contents(of: member)
                storages[storageKey] = bytes
            }
            tensors[name] = try materialize(name: name, reference: reference, storage: bytes)
            order.append(name)
        }
        return StateDict(tensors: tensors, order: order, format: "pytorch",
                         ignoredEntries: selection.ignoredEntries, metadata: selection.metadata)
    }

    /// Checks the tensor's layout against its storage and converts its elements to Float.
    static func materialize(name: String, reference: TorchTensorReference, storage: Data)
        throws(CheckpointError.Kind) -> Tensor
    {
        let dtype = reference.storage.dtype
        guard dtype.convertsToFloat else { throw .unsupportedDType(name: name, dtype: dtype.rawValue) }
        guard let count = reference.elementCount else {
            throw .badTensor(name: name, problem: "shape \(reference.shape) has too many elements")
        }
        guard reference.isContiguous else {
            throw .badTensor(name: name, problem: "strides \(reference.stride) are not contiguous row-major "
                + "for shape \(reference.shape); save it after .contiguous()")
        }
        let (end, endOverflow) = reference.storageOffset.addingReportingOverflow(count)
        let (endByte, byteOverflow) = end.multipliedReportingOverflow(by: dtype.itemSize)
        guard !endOverflow, !byteOverflow, end <= reference.storage.elementCount, endByte <= storage.count else {
            throw .badTensor(name: name, problem: "elements \(reference.storageOffset)..<\(reference.storageOffset)+"
                + "\(count) run past its storage (\(reference.storage.elementCount) elements declared, "
                + "\(storage.count / dtype.itemSize) in data/\(reference.storage.key))")
        }
        let values = storage.withUnsafeBytes { raw in
            ElementConversion.floats(from: raw, byteOffset: reference.storageOffset * dtype.itemSize,
                                     count: count, dtype: dtype)
        }
        return Tensor(shape: reference.shape, values: values, storedDType: dtype.safetensorsName)
    }
}
