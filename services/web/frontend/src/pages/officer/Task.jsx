// Placeholder: this screen is being built (issue 15).
export default function Task() {
  return (
    <section>
      <h1>Task</h1>
    </section>
  );
}
