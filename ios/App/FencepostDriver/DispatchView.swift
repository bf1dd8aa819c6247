import SwiftUI
import FencepostKit

/// Availability, the offer (accept/decline), status with distance and ETA, the pickup scanner and the
/// delivery button.
struct DispatchView: View {
    @EnvironmentObject var model: DriverModel
    @State private var scanning = false

    var body: some View {
        NavigationStack {
            Form {
                Toggle("Available for orders", isOn: Binding(
                    get: { model.state?.available ?? false }, set: { model.setAvailable($0) }))
                if let offer = model.state?.openOffers.first {
                    Section("New order") {
                        Text("From \(offer.storeName)").font(.headline)
                        HStack {
                            Button("Accept") { model.accept(offer.offerId) }.buttonStyle(.borderedProminent)
                            Button("Decline", role: .destructive) { model.decline(offer.offerId) }
                        }
                    }
                }
                if let state = model.state {
                    Section("Delivery") {
                        LabeledContent("Status", value: "\(state.phase)")
                        if let d = state.distanceM {
                            LabeledContent("Distance", value: d >= 1000 ? String(format: "%.1f km", d / 1000) : "\(Int(d)) m")
                        }
                        if let eta = state.etaS { LabeledContent("ETA", value: "\(max(1, Int(eta / 60))) min") }
                        if state.sync.pendingMessages > 0 {
                            Text("\(state.sync.pendingMessages) updates waiting\(state.sync.online ? "" : " (offline)")")
                        }
                        switch state.phase {
                        case .accepted, .enRouteToStore, .arrivedAtStore:
                            Button("Scan pickup code") { scanning = true }
                        case .pickedUp, .enRouteToCustomer, .arrivedAtCustomer:
                            Button("Delivered") { model.delivered() }
                        default:
                            EmptyView()
                        }
                    }
                }
                if let message = model.message { Text(message).foregroundStyle(.red) }
            }
            .navigationTitle("Fencepost")
            .sheet(isPresented: $scanning) {
                QRScannerView { code in
                    scanning = false
                    model.scanned(code)
                }
                .ignoresSafeArea()
            }
        }
    }
}
