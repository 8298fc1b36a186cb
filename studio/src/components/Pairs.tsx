// Names and values as a two-column table, sorted by name (a run's params, tags, metrics).
export function Pairs({ values, testId }: { values: Record<string, string>; testId: string }) {
  const keys = Object.keys(values).sort();
  if (keys.length === 0) return <p className="muted">None.</p>;
  return (
    <table className="grid pairs" data-testid={testId}>
      <tbody>
        {keys.map((key) => (
          <tr key={key}>
            <th>{key}</th>
            <td>{values[key]}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
