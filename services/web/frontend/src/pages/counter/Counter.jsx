// Placeholder: this screen is being built (issue 15).
export default function Counter() {
  return (
    <section>
      <h1>Counter</h1>
    </section>
  );
}
