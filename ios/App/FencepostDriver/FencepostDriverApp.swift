import SwiftUI
import FencepostKit

/// The iOS driver app (Xcode only: SwiftUI, Core Location and AVFoundation do not exist on Linux).
/// Add ios/FencepostKit as a local package and the XCFramework from ios/build-xcframework.sh.
@main
struct FencepostDriverApp: App {
    @StateObject private var model = DriverModel()

    var body: some Scene {
        WindowGroup {
            DispatchView()
                .environmentObject(model)
                .task { await model.start() }
        }
    }
}
