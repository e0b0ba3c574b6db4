// Placeholder: this screen is being built (issue 15).
export default function Verify() {
  return (
    <section>
      <h1>Verify</h1>
    </section>
  );
}
