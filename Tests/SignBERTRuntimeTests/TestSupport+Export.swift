// The shared comparison of float outputs (maxAbsDifference) for every file of this target, without an import of
// its own in each.
@_exported public import TestSupport
