// Placeholder: this screen is being built (issue 15).
export default function Scenario() {
  return (
    <section>
      <h1>Scenario</h1>
    </section>
  );
}
