import type { AnySkill } from './define-skill.ts';

/** The skills Wheelhouse knows, looked up by name or by the word users type. */
export class SkillRegistry {
  readonly #byName = new Map<string, AnySkill>();
  readonly #byWord = new Map<string, AnySkill>();

  constructor(skills: readonly AnySkill[]) {
    for (const skill of skills) this.#add(skill);
  }

  #add(skill: AnySkill): void {
    if (!/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/.test(skill.name)) {
      throw new Error(`skill name "${skill.name}" must be kebab-case <resource>-<action>`);
    }
    if (this.#byName.has(skill.name)) throw new Error(`skill "${skill.name}" is registered twice`);
    this.#byName.set(skill.name, skill);
    for (const word of commandWords(skill)) {
      const other = this.#byWord.get(word);
      if (other) throw new Error(`command word "${word}" is used by both ${other.name} and ${skill.name}`);
      this.#byWord.set(word, skill);
    }
  }

  get(name: string): AnySkill | undefined {
    return this.#byName.get(name);
  }

  /** The skill a typed command word reaches. */
  byWord(word: string): AnySkill | undefined {
    return this.#byWord.get(word.toLowerCase());
  }

  /** Every word that reaches a skill, for "did you mean". */
  words(): string[] {
    return [...this.#byWord.keys()];
  }

  all(): AnySkill[] {
    return [...this.#byName.values()];
  }
}

/** The main command word of a skill, e.g. "pods". */
export function commandOf(skill: AnySkill): string {
  return skill.grammar.command ?? skill.name;
}

function commandWords(skill: AnySkill): string[] {
  return [commandOf(skill), skill.name, ...(skill.grammar.aliases ?? [])].filter(
    (word, index, all) => all.indexOf(word) === index,
  );
}
