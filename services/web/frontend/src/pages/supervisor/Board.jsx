// Placeholder: this screen is being built (issue 15).
export default function Board() {
  return (
    <section>
      <h1>Board</h1>
    </section>
  );
}
