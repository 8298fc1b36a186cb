import { useState } from "react";

// A team server's studio: the user gives a token (`trainyard token create`); it stays in this tab.
export function Login({ error, onToken }: { error: string | null; onToken: (token: string) => void }) {
  const [token, setToken] = useState("");
  return (
    <main className="page login">
      <h1>trainyard studio</h1>
      <p>
        This server needs a token: <code>trainyard token create</code> makes one. It is kept in this tab
        only. On your own machine, <code>trainyard studio</code> prints a URL that needs none.
      </p>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          if (token.trim()) onToken(token.trim());
        }}
      >
        <input
          type="password"
          aria-label="token"
          placeholder="ty_…"
          value={token}
          onChange={(event) => setToken(event.target.value)}
        />
        <button type="submit">Sign in</button>
      </form>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </main>
  );
}
