import HTTPKit
import ServiceKit
import SystemKit

/// The page's stylesheet and avatar, compiled in: the page needs nothing from the internet or the file system.
enum StaticAssets {
    static let avatarPNG: [UInt8] =
        Base64.decode(
            "iVBORw0KGgoAAAANSUhEUgAAADAAAAAwCAYAAABXAvmHAAAA4UlEQVR42u3aOw7CMBBFUa+OzbC5LIuSmiZQowiUvN+MNJFSc0+BNbaz"
                + "1jxr3e7bfuVtGx6HsMLtEFW4BeKKpyPc4VRIOh5CVIm/jEB+7PF8Hb42ADucBSkRL0c44hFEmXgJojUgEU9FtAa4Vh7ZijSAAY"
                + "QAqWV0AMlRQgJwDnMygGOclgOUGxorwL7NHMAANu9EyhohkD85tB8oCTiDSAOgPbEq/gwCOplIA+BzofKAXwh1/D8EfD6aBFBO"
                + "p1sBvhGu+CME5ZYmBaDdlbkBkpvK1vEOiP3Gvm04CzKfyXyeN+N9gVrzcazSAAAAAElFTkSuQmCC"
        ) ?? []

    /// Served at /static/<path>; the original's paths keep working.
    static func response(for path: String) -> Response? {
        switch path {
        case "bookinfo.css", "tailwind/tailwind.css": return stylesheet
        case "img/izzy.png": return avatar
        default: return nil
        }
    }

    // Built once: the bytes are the same for every request.
    private static let stylesheet = Response(
        status: .ok, headers: ["Content-Type": "text/css; charset=utf-8", "Cache-Control": "public, max-age=300"],
        body: Array(css.utf8)
    )
    private static let avatar = Response(
        status: .ok, headers: ["Content-Type": "image/png", "Cache-Control": "public, max-age=300"], body: avatarPNG)

    static let css = """
        *{box-sizing:border-box}
        body{margin:0;font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:#1f2937;\
        background:#f9fafb;line-height:1.5}
        a{color:#2563eb}
        nav{display:flex;align-items:center;justify-content:space-between;padding:.75rem 1.5rem;background:#466bb0;\
        color:#fff}
        nav .brand{font-size:1.25rem;font-weight:600}
        nav .user{display:flex;align-items:center;gap:.5rem}
        nav .user img{width:32px;height:32px;border-radius:50%}
        nav a,nav button{color:#fff;background:transparent;border:1px solid #fff;border-radius:.375rem;padding:.25rem \
        .75rem;font:inherit;cursor:pointer;text-decoration:none}
        .container{max-width:64rem;margin:0 auto;padding:1.5rem}
        h1{font-size:2rem;margin:.5rem 0 1rem}
        h4{font-size:1.25rem;margin:1.5rem 0 .5rem}
        .card{background:#fff;border:1px solid #e5e7eb;border-radius:.5rem;padding:1rem 1.25rem;margin:1rem 0}
        table{border-collapse:collapse;width:100%}
        th,td{text-align:left;padding:.5rem;border-bottom:1px solid #e5e7eb}
        th{background:#466bb0;color:#fff;font-weight:600}
        .review{border-top:1px solid #e5e7eb;padding:1rem 0}
        .review:first-of-type{border-top:none}
        .review blockquote{margin:.5rem 0;font-style:italic}
        .reviewer{display:flex;align-items:center;gap:.5rem;color:#4b5563}
        .reviewer img{width:28px;height:28px;border-radius:50%}
        .stars{display:flex;gap:.2rem}
        .stars svg{width:1.25rem;height:1.25rem}
        .text-black-500{color:#111827}
        .text-red-500{color:#dc2626}
        .error{color:#dc2626}
        .error.text-2xl{font-size:1.5rem;font-weight:600}
        .served{color:#6b7280;font-size:.875rem;margin-top:1rem}
        footer{color:#6b7280;font-size:.8rem;text-align:center;padding:1.5rem}
        dialog{border:none;border-radius:.75rem;padding:1.5rem;max-width:22rem;width:100%;box-shadow:0 10px 25px \
        rgba(0,0,0,.2)}
        dialog::backdrop{background:rgba(17,24,39,.5)}
        dialog h2{margin-top:0}
        dialog label{display:block;margin:.75rem 0 .25rem}
        dialog input{width:100%;padding:.5rem;border:1px solid #d1d5db;border-radius:.375rem;font:inherit}
        dialog .actions{display:flex;gap:.5rem;margin-top:1rem}
        dialog button{padding:.5rem 1rem;border-radius:.375rem;border:1px solid #466bb0;background:#466bb0;color:#fff;\
        font:inherit;cursor:pointer}
        dialog button.secondary{background:#fff;color:#466bb0}
        .services td,.services th{border:1px solid #d1d5db}
        """
}
