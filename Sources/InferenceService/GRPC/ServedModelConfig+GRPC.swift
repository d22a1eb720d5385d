/// The model configuration and statistics of Triton's extensions as protobuf messages (gRPC ModelConfig and
/// ModelStatistics): the same content as their JSON forms (ServedModelConfig.swift, ModelStatistics+JSON.swift).
extension ServedModelConfig {
    var message: Inference_ModelConfig {
        Inference_ModelConfig.with { config in
            config.name = name
            config.platform = platform
            config.backend = backend
            config.versionPolicy = .with { $0.latest = .with { $0.numVersions = 1 } }
            config.maxBatchSize = Int32(clamping: maxBatchSize)
            config.input = inputs.map { input in
                .with {
                    $0.name = input.name
                    $0.dataType = .typeFp32
                    $0.format = .none
                    $0.dims = input.dims.map(Int64.init)
                }
            }
            config.output = outputs.map { output in
                .with {
                    $0.name = output.name
                    $0.dataType = .typeFp32
                    $0.dims = output.dims.map(Int64.init)
                }
            }
            config.dynamicBatching = .with { $0.maxQueueDelayMicroseconds = maxQueueDelayMicroseconds }
            config.instanceGroup = [.with {
                $0.name = name + "_0"
                $0.kind = .cpu
                $0.count = Int32(clamping: instanceCount)
            }]
            for parameter in parameters {
                config.parameters[parameter.key] = .with { $0.stringValue = parameter.value }
            }
        }
    }
}

extension ModelStatistics.Snapshot {
    func message(name: String, version: String) -> Inference_ModelStatistics {
        func duration(_ value: ModelStatistics.CountedDuration) -> Inference_StatisticDuration {
            .with {
                $0.count = value.count
                $0.ns = value.ns
            }
        }
        return Inference_ModelStatistics.with { stats in
            stats.name = name
            stats.version = version
            stats.lastInference = lastInference
            stats.inferenceCount = inferenceCount
            stats.executionCount = executionCount
            stats.inferenceStats = .with {
                $0.success = duration(success)
                $0.fail = duration(fail)
                $0.queue = duration(queue)
                $0.computeInput = duration(computeInput)
                $0.computeInfer = duration(computeInfer)
                $0.computeOutput = duration(computeOutput)
                $0.cacheHit = duration(ModelStatistics.CountedDuration())
                $0.cacheMiss = duration(ModelStatistics.CountedDuration())
            }
            stats.batchStats = batches.keys.sorted().compactMap { size in
                batches[size].map { batch in
                    .with {
                        $0.batchSize = UInt64(size)
                        $0.computeInput = duration(batch.computeInput)
                        $0.computeInfer = duration(batch.computeInfer)
                        $0.computeOutput = duration(batch.computeOutput)
                    }
                }
            }
        }
    }
}
