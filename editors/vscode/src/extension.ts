// Starts `sluice lsp` for SQL files and restarts it when its settings change.
import * as vscode from "vscode";
import {
  LanguageClient,
  LanguageClientOptions,
  ServerOptions,
  TransportKind,
} from "vscode-languageclient/node";

let client: LanguageClient | undefined;

function serverOptions(): ServerOptions {
  const config = vscode.workspace.getConfiguration("sluice");
  const command = config.get<string>("path") || "sluice";
  return { command, args: ["lsp"], transport: TransportKind.stdio };
}

function clientOptions(): LanguageClientOptions {
  const config = vscode.workspace.getConfiguration("sluice");
  return {
    documentSelector: [
      { scheme: "file", language: "sql" },
      { scheme: "untitled", language: "sql" },
      { scheme: "file", pattern: "**/*.sql" },
    ],
    initializationOptions: { debounceMs: config.get<number>("debounceMs", 150) },
    synchronize: {
      // The server also registers this watcher itself; this covers clients without dynamic
      // registration.
      fileEvents: vscode.workspace.createFileSystemWatcher("**/sluice.toml"),
    },
  };
}

async function start(context: vscode.ExtensionContext): Promise<void> {
  client = new LanguageClient("sluice", "Sluice", serverOptions(), clientOptions());
  try {
    await client.start();
  } catch (e) {
    const path = vscode.workspace.getConfiguration("sluice").get<string>("path");
    void vscode.window.showErrorMessage(
      `Sluice: could not start \`${path} lsp\` (${e}). Set "sluice.path" to the sluice binary.`,
    );
  }
  context.subscriptions.push({ dispose: () => void client?.stop() });
}

async function restart(context: vscode.ExtensionContext): Promise<void> {
  if (client) {
    await client.stop().catch(() => undefined);
    client = undefined;
  }
  await start(context);
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  context.subscriptions.push(
    vscode.commands.registerCommand("sluice.restartServer", () => restart(context)),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration("sluice.path") || e.affectsConfiguration("sluice.debounceMs")) {
        void restart(context);
      }
    }),
  );
  await start(context);
}

export async function deactivate(): Promise<void> {
  await client?.stop();
}
