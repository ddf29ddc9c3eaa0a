import Foundation
import HTTPTypes
import Hummingbird
import MetadataStore
import Workflow

/// POST routes: JSON under /api/v1 with a bearer token, forms from the pages with a session and its CSRF token.
extension StatusServer {
    func actionRoutes(_ router: Router<BasicRequestContext>) {
        // API
        router.post("/api/v1/dags/:dag/runs") { [self] request, context in
            try auth.requireBearer(request)
            let dag = try dagParameter(context)
            let body = try await Self.jsonBody(request)
            guard (body["logical_date"].map { $0 is String || $0 is NSNull } ?? true) else {
                throw HTTPError(.badRequest, message: "body field 'logical_date' must be a string such as 2024-01-31 or 2024-01-31T06:00Z")
            }
            var params: [String: String] = [:]
            if let given = body["params"] {
                guard let object = given as? [String: Any] else { throw HTTPError(.badRequest, message: "body field 'params' must be an object") }
                for (name, value) in object {
                    // Strings as they are; numbers and booleans as a DAG file would write them; nothing else.
                    if let text = value as? String { params[name] = text; continue }
                    guard let number = value as? NSNumber else {
                        throw HTTPError(.badRequest, message: "param '\(name)' must be a string, a number or a boolean")
                    }
                    // JSON true/false arrive as NSNumber's boolean subclass.
                    let isBoolean = String(describing: type(of: number)).contains("Boolean")
                    params[name] = isBoolean ? (number.boolValue ? "true" : "false") : number.stringValue
                }
            }
            let run = try requireActions().trigger(dagId: dag.dagId, logicalDate: body["logical_date"] as? String, params: params)
            return try json(Self.runJSON(run), status: .created)
        }
        router.post("/api/v1/dags/:dag/runs/:run/clear") { [self] request, context in
            try auth.requireBearer(request)
            let (dag, run) = try runParameter(context)
            let body = try await Self.jsonBody(request)
            guard (body["tasks"].map { $0 is [String] } ?? true) else { throw HTTPError(.badRequest, message: "body field 'tasks' must be a list of task ids") }
            guard (body["downstream"].map { $0 is Bool } ?? true) else { throw HTTPError(.badRequest, message: "body field 'downstream' must be true or false") }
            let cleared = try requireActions().clear(dagId: dag.dagId, runId: run.runId, taskIds: body["tasks"] as? [String] ?? [],
                                                     downstream: body["downstream"] as? Bool ?? false)
            return try json(["dag_id": dag.dagId, "run_id": run.runId, "cleared": cleared])
        }
        for (verb, paused) in [("pause", true), ("unpause", false)] {
            router.post("/api/v1/dags/:dag/\(verb)") { [self] request, context in
                try auth.requireBearer(request)
                let dag = try dagParameter(context)
                try requireActions().setPaused(dagId: dag.dagId, paused: paused)
                return try json(["dag_id": dag.dagId, "is_paused": paused])
            }
        }

        // Forms
        router.post("/login") { [self] request, _ in
            guard auth.actionsEnabled else { throw WebAuth.actionsOff }
            let form = try await FormBody.read(request)
            let next = Self.localPath(form["next"])
            guard let session = auth.login(token: form["token"] ?? "") else { return html(loginPage(next: next, failed: true), status: .unauthorized) }
            var response = Self.redirect(next)
            response.headers[.setCookie] = "\(WebAuth.cookieName)=\(session.id); Path=/; HttpOnly; SameSite=Strict; Max-Age=\(Int(WebAuth.sessionLifetime))"
            return response
        }
        router.post("/logout") { [self] request, _ in
            let form = try await FormBody.read(request)
            try auth.requireForm(request, form)
            auth.logout(request)
            var response = Self.redirect("/")
            response.headers[.setCookie] = "\(WebAuth.cookieName)=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"
            return response
        }
        router.post("/dags/:dag/trigger") { [self] request, context in
            let form = try await FormBody.read(request)
            try auth.requireForm(request, form)
            let dag = try dagParameter(context)
            let date = form["logical_date"].flatMap { $0.trimmingCharacters(in: .whitespaces).isEmpty ? nil : $0 }
            let run = try requireActions().trigger(dagId: dag.dagId, logicalDate: date, params: [:])
            return Self.redirect(HTML.runPath(dag.dagId, run.runId))
        }
        router.post("/dags/:dag/runs/:run/clear") { [self] request, context in
            let form = try await FormBody.read(request)
            try auth.requireForm(request, form)
            let (dag, run) = try runParameter(context)
            var tasks = form["task"].map { [$0] } ?? []
            if form["only_failed"] == "1" {
                tasks = try store.taskInstances(dagId: dag.dagId, runId: run.runId)
                    .filter { $0.state == .failed || $0.state == .upstreamFailed }.map(\.key.taskId)
                if tasks.isEmpty { return Self.redirect(HTML.runPath(dag.dagId, run.runId)) }
            }
            _ = try requireActions().clear(dagId: dag.dagId, runId: run.runId, taskIds: tasks, downstream: form["downstream"] == "1")
            return Self.redirect(tasks.count == 1 && form["task"] != nil
                                 ? HTML.taskPath(dag.dagId, run.runId, tasks[0]) : HTML.runPath(dag.dagId, run.runId))
        }
        for (verb, paused) in [("pause", true), ("unpause", false)] {
            router.post("/dags/:dag/\(verb)") { [self] request, context in
                let form = try await FormBody.read(request)
                try auth.requireForm(request, form)
                let dag = try dagParameter(context)
                try requireActions().setPaused(dagId: dag.dagId, paused: paused)
                return Self.redirect(HTML.dagPath(dag.dagId))
            }
        }
    }

    func requireActions() throws -> any StatusActions {
        guard let actions = setup.actions else { throw WebAuth.actionsOff }
        return actions
    }

    static func redirect(_ location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location])
    }

    /// A JSON object body (an empty body is an empty object); anything else is a 400.
    static func jsonBody(_ request: Request) async throws -> [String: Any] {
        let buffer = try await request.body.collect(upTo: FormBody.maxBytes)
        guard buffer.readableBytes > 0 else { return [:] }
        guard let object = (try? JSONSerialization.jsonObject(with: Data(buffer.readableBytesView))) as? [String: Any] else {
            throw HTTPError(.badRequest, message: "the request body must be a JSON object")
        }
        return object
    }
}
