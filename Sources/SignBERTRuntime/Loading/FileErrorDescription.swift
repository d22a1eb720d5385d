import Foundation

extension Error {
    /// The reason a file operation failed, readable: Foundation's Linux errors say "The operation could
    /// not be completed (NSCocoaErrorDomain error 512)" and keep the real cause (ENOENT, EACCES, ...)
    /// as an underlying POSIX error.
    public var fileErrorDescription: String {
        var error = self as NSError
        while let underlying = error.userInfo[NSUnderlyingErrorKey] as? NSError { error = underlying }
        if error.domain == NSPOSIXErrorDomain, let message = strerror(Int32(error.code)) {
            return String(cString: message)
        }
        return firstLine(of: error.localizedDescription)
    }
}
