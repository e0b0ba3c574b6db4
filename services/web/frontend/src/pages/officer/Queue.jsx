// Placeholder: this screen is being built (issue 15).
export default function Queue() {
  return (
    <section>
      <h1>Queue</h1>
    </section>
  );
}
